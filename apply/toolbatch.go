package apply

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"trail/apply/kind"
	"trail/stepfmt"
)

// groupEnd returns where the group of changes starting at i ends, or i
// when the change at i does not start one. A group holds either added and
// modified changes (kind.Grouper) or removals (kind.RestoreGrouper; other kinds'
// reverses run one by one, newest first, so that each sees the one before
// it done), never two changes with the same identity.
func (r *run) groupEnd(i int) int {
	changes := r.plan.Changes
	first := changes[i]
	row := handlerOf(first.Step.Kind)
	remove := first.Op == stepfmt.OpRemove
	if _, ok := row.h.(kind.Grouper); row.path || !ok && !remove {
		return i
	}
	if _, ok := row.h.(kind.RestoreGrouper); remove && !ok {
		return i
	}
	seen := make(map[string]bool)
	j := i
	for j < len(changes) && j-i < r.e.opts.batchSize {
		c := changes[j]
		if (c.Op == stepfmt.OpRemove) != remove || c.Step.Kind != first.Step.Kind {
			break
		}
		key := c.Step.Target
		if seen[key] {
			break
		}
		seen[key] = true
		j++
	}
	return j
}

// changeGroup makes a group of changes, the first at place first of the
// plan: each is checked against the machine as it is now, then those with
// work are made in one call.
func (r *run) changeGroup(first int, cs []stepfmt.Change, pres []kind.Image) error {
	start := time.Now()
	h := handlerOf(cs[0].Step.Kind).h
	works := make([]kind.Work, len(cs))
	var steps []*stepfmt.Step
	var todo []kind.Work
	var imgs []kind.Image
	var at []int
	remove := cs[0].Op == stepfmt.OpRemove
	for k, c := range cs {
		w, err := r.check(first+k, h, c, pres[k])
		if err != nil {
			return &stepError{c.Step, err}
		}
		works[k] = w
		if !w.None() {
			steps, todo, at = append(steps, c.Step), append(todo, w), append(at, first+k)
			if remove {
				imgs = append(imgs, r.cur.applied.Get(c.Step.ID()).Origin)
			}
		}
	}
	if len(steps) > 0 {
		var err error
		if remove {
			err = h.(kind.RestoreGrouper).RestoreGroup(r.x, steps, imgs, todo)
		} else {
			err = h.(kind.Grouper).ForwardGroup(r.x, steps, todo)
		}
		r.x.ForgetAccounts() // a group is never of a path kind
		if err != nil {
			var one *kind.StepFailed
			if errors.As(err, &one) {
				return &stepError{one.Step, one.Err}
			}
			if len(steps) > 1 {
				err = fmt.Errorf("together with %s: %w", groupNames(steps[1:]), err)
			}
			return &stepError{steps[0], err}
		}
		if b, ok := h.(kind.Bringer); ok && !remove {
			r.e.crashPoint("forward " + strconv.Itoa(at[len(at)-1]))
			for k, s := range steps {
				if err := r.amend(at[k], cs[at[k]-first], b); err != nil {
					return &stepError{s, err}
				}
			}
		}
	}
	for k, c := range cs {
		r.finish(c, works[k], start)
	}
	return nil
}

// groupNames names the targets of steps for an error, the first few and
// how many more (a group holds up to the batch size).
func groupNames(steps []*stepfmt.Step) string {
	const shown = 5
	names := make([]string, 0, shown)
	for _, s := range steps[:min(len(steps), shown)] {
		names = append(names, s.Target)
	}
	out := strings.Join(names, ", ")
	if len(steps) > shown {
		out += fmt.Sprintf(" and %d more", len(steps)-shown)
	}
	return out
}
