package apply

import (
	"fmt"
	"slices"
	"strings"

	"trail/apply/kind"
	"trail/stepfmt"
)

// A package's install, upgrade or downgrade (a rollback's too) writes
// every file the package ships, and its removal deletes them: a file
// trail manages by a step the plan does not change (a FILE's content, an
// EDIT's lines, an ATTRS's mode on a file of the package) would be left
// as the package left it until the next heal, where a fresh apply of the
// list leaves the step's content (or refuses it, as it would the list).
// The engine therefore checks those steps again right after the change
// (recheckShipped) and makes each that no longer matches as a modify of
// itself.
//
// The undo of such a change (a failed apply, recovery) runs the
// package's tools again, which write the package's files once more,
// after the undo of those modifies put back what the package had left.
// So, before the change, the engine also journals the pre-image of every
// path step on a file the package ships as installed then, unchanged or
// changed later in the plan, whose own pre-image is then what the package
// left (guardShipped): journaled before the change's own intent, it is
// undone after it, and the files are as they were before the apply.

// shippedFiles returns the paths the targets of steps ship now, as their
// kind says (kind.Shipper).
func (r *run) shippedFiles(steps []*stepfmt.Step, files map[string]bool) error {
	for _, s := range steps {
		paths, err := handlerOf(s.Kind).h.(kind.Shipper).Shipped(r.x, s)
		if err != nil {
			return &stepError{s, fmt.Errorf("listing the files it ships: %w", err)}
		}
		for _, p := range paths {
			files[p] = true
		}
	}
	return nil
}

// unchangedOn returns the path steps of the list on files that the plan
// does not change before place upto, with their records, in list order.
func (r *run) unchangedOn(files map[string]bool, upto int) ([]*stepfmt.Step, []*kind.Record, error) {
	var candidates []*stepfmt.Step
	for _, s := range r.list.Steps {
		if stepfmt.IsPath(s.Kind) && files[s.Target] {
			candidates = append(candidates, s)
		}
	}
	if len(candidates) == 0 {
		return nil, nil, nil
	}
	planned := make(map[stepfmt.ID]bool, len(candidates))
	for _, s := range candidates {
		planned[s.ID()] = false
	}
	for _, c := range r.plan.Changes[:upto] {
		if _, ok := planned[c.Step.ID()]; ok {
			planned[c.Step.ID()] = true
		}
	}
	var steps []*stepfmt.Step
	var recs []*kind.Record
	for _, s := range candidates {
		if planned[s.ID()] {
			continue
		}
		if rec := r.cur.applied.Get(s.ID()); rec != nil {
			steps, recs = append(steps, s), append(recs, rec)
		}
	}
	return steps, recs, r.cur.applied.Err()
}

// guardShipped captures, before the changes of a batch are made, the
// pre-images of the path steps on the files that its changes of a
// kind.Shipper ship as installed now, unchanged or changed after the
// batch (such a change's own pre-image is what the package left), and
// returns them as journal entries of their own (negative places, their
// steps in r.guards), for batch to journal before the changes' intents.
func (r *run) guardShipped(i, end int) ([]journaled, error) {
	var shippers []*stepfmt.Step
	for _, c := range r.plan.Changes[i:end] {
		if _, ok := handlerOf(c.Step.Kind).h.(kind.Shipper); ok {
			shippers = append(shippers, c.Step)
		}
	}
	if len(shippers) == 0 {
		return nil, nil
	}
	files := make(map[string]bool)
	if err := r.shippedFiles(shippers, files); err != nil {
		return nil, err
	}
	r.shippedBefore = files
	steps, _, err := r.unchangedOn(files, end)
	if err != nil {
		return nil, err
	}
	out := make([]journaled, 0, len(steps))
	for _, s := range steps {
		img, err := r.capture(stepfmt.Change{Op: stepfmt.OpModify, Step: s})
		if err != nil {
			return nil, &stepError{s, fmt.Errorf("saving its pre-image: %w", err)}
		}
		r.guards = append(r.guards, s)
		out = append(out, journaledAs(-len(r.guards), img))
	}
	return out, nil
}

// recheckShipped plans again, right after changes [i, end) were made,
// the unchanged path steps on files that a change of them that did work
// shipped before or ships now, when such a file no longer matches its
// step: each as a modify of itself, made, journaled and counted as any
// change, its event naming the change; not as drift, which a hand makes.
func (r *run) recheckShipped(end int) error {
	if len(r.shipped) == 0 {
		r.shippedBefore = nil
		return nil
	}
	files := r.shippedBefore
	if files == nil {
		files = make(map[string]bool)
	}
	r.shippedBefore = nil
	shipped := r.shipped
	r.shipped = nil
	if err := r.shippedFiles(shipped, files); err != nil {
		return err
	}
	steps, recs, err := r.unchangedOn(files, len(r.plan.Changes))
	if err != nil || len(steps) == 0 {
		return err
	}
	r.x.Root.Forget() // the package's tools replaced files and directories
	why := make([]string, len(shipped))
	for k, s := range shipped {
		why[k] = s.ID().String()
	}
	var again []stepfmt.Change
	for k, s := range steps {
		c := stepfmt.Change{Op: stepfmt.OpModify, Step: s}
		w, err := checkOp(handlerOf(s.Kind).h, kind.NewView(r.x), c, recs[k])
		if err != nil {
			return &stepError{s, err}
		}
		if !w.None() {
			again = append(again, c)
			if r.reshipped == nil {
				r.reshipped = make(map[stepfmt.ID]string)
			}
			r.reshipped[s.ID()] = "written again after " + strings.Join(why, ", ") + ", which ships it"
		}
	}
	r.plan.Changes = slices.Insert(r.plan.Changes, end, again...)
	r.plan.Unchanged -= len(again)
	r.g.Counts.Modified += len(again)
	r.g.Counts.Unchanged -= len(again)
	return nil
}

// stepOf returns the step of a journaled change: of the plan, or a guard.
func (r *run) stepOf(i int32) *stepfmt.Step {
	if i < 0 {
		return r.guards[-i-1]
	}
	return r.plan.Changes[i].Step
}
