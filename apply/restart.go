package apply

import (
	"strings"
	"time"

	"trail/stepfmt"
)

// restarter is implemented by kinds whose steps act again when a path
// they name changed in an apply (UNIT restart-on). The engine calls
// Restart once per step and apply, after every change is made and before
// the post-apply checks, and only when one of Triggers changed: an apply
// that changes none of them, such as a no-op apply, restarts nothing.
type restarter interface {
	// Triggers lists the paths whose change calls for a restart.
	Triggers(s *stepfmt.Step) []string
	// Restart acts on the change of the paths in why. did is the work
	// the step itself did in this apply (none when it did nothing). It
	// returns what it did, or in Notes why it did nothing.
	Restart(x *Exec, s *stepfmt.Step, did Work, why []string) (Work, error)
}

// did records the work of a change that was made.
func (r *run) did(s *stepfmt.Step, w Work) {
	if r.done == nil {
		r.done = make(map[stepfmt.ID]Work)
	}
	r.done[s.ID()] = w
}

// restarts runs Restart for every step whose triggers changed. A failing
// restart fails the apply, which is then rolled back.
func (r *run) restarts() error {
	changed := make(map[string]bool)
	for id := range r.done {
		if stepfmt.IsPath(id.Kind) {
			changed[id.Target] = true
		}
	}
	if len(changed) == 0 {
		return nil
	}
	for _, s := range r.list.Steps {
		rs, ok := handlerOf(s.Kind).h.(restarter)
		if !ok {
			continue
		}
		var why []string
		for _, p := range rs.Triggers(s) {
			if changed[p] {
				why = append(why, p)
			}
		}
		if len(why) == 0 {
			continue
		}
		start := time.Now()
		w, err := rs.Restart(r.x, s, r.done[s.ID()], why)
		if err != nil {
			return &stepError{s, err}
		}
		result := StepUnchanged
		if !w.None() {
			result = StepChanged
			r.restarted = append(r.restarted, s)
		}
		r.event(Event{Type: EventStep, Step: stepLine(s), Source: s.Src.String(), Op: "restart", Result: result,
			Detail: strings.Join(append(append([]string{}, w.Changes...), w.Notes...), "; "), Duration: time.Since(start)})
	}
	return nil
}

// restartUndone restarts, after a rollback, what this apply restarted:
// the files it read were put back, so it must read them again. It is
// best effort: the rollback has happened, and a failure is reported.
func (r *run) restartUndone() {
	for _, s := range r.restarted {
		rs := handlerOf(s.Kind).h.(restarter)
		w, err := rs.Restart(r.x, s, Work{}, []string{"rolled back"})
		r.event(Event{Type: EventStep, Step: stepLine(s), Source: s.Src.String(), Op: "restart", Result: resultOf(err),
			Detail: strings.Join(append(append([]string{}, w.Changes...), w.Notes...), "; "), Err: err})
	}
}
