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
// path step on a file the package ships as installed then or will ship
// (the archives it will unpack: an install's purge removes them), unchanged or
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

// hasPathSteps reports whether the list has a path step, the only kind
// stepsOn returns: without one, what packages ship is not worth a tool
// call (an apply that only installs packages lists no archive).
func (r *run) hasPathSteps() bool {
	return slices.ContainsFunc(r.list.Steps, func(s *stepfmt.Step) bool { return stepfmt.IsPath(s.Kind) })
}

// onShipped is a path step of the list on a file a change ships: the
// change the plan makes of it, at place at, or a modify of itself when
// the plan leaves it (at -1), and its applied record (nil for an add).
type onShipped struct {
	c   stepfmt.Change
	at  int
	rec *kind.Record
}

// stepsOn returns the path steps of the list on files, in list order,
// but those the plan leaves that trail does not manage yet (no record).
func (r *run) stepsOn(files map[string]bool) ([]onShipped, error) {
	var out []onShipped
	at := map[stepfmt.ID]int{}
	for _, s := range r.list.Steps {
		if stepfmt.IsPath(s.Kind) && files[s.Target] {
			out = append(out, onShipped{c: stepfmt.Change{Op: stepfmt.OpModify, Step: s}, at: -1})
			at[s.ID()] = len(out) - 1
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	for k, c := range r.plan.Changes {
		if j, ok := at[c.Step.ID()]; ok {
			out[j].c, out[j].at = c, k
		}
	}
	n := 0
	for _, o := range out {
		if o.c.Op != stepfmt.OpAdd {
			o.rec = r.cur.applied.Get(o.c.Step.ID())
		}
		if o.rec != nil || o.at >= 0 {
			out[n] = o
			n++
		}
	}
	return out[:n], r.cur.applied.Err()
}

// guardShipped captures, before the changes of a batch are made, the
// pre-images of the path steps on the files that its changes of a
// kind.Shipper ship as installed now, unchanged or changed after the
// batch (such a change's own pre-image is what the package left; one
// made before it took its own), and returns them as journal entries of
// their own (negative places, their steps in r.guards), for batch to
// journal before the changes' intents.
func (r *run) guardShipped(i, end int) ([]journaled, error) {
	r.unguarded = nil
	var shippers []*stepfmt.Step
	for _, c := range r.plan.Changes[i:end] {
		if _, ok := handlerOf(c.Step.Kind).h.(kind.Shipper); ok {
			shippers = append(shippers, c.Step)
		}
	}
	if len(shippers) == 0 || !r.hasPathSteps() {
		return nil, nil
	}
	files := make(map[string]bool)
	if err := r.shippedFiles(shippers, files); err != nil {
		return nil, err
	}
	// A batch is of one kind (a group): its Shipper names them all. What
	// it reports is what it could not list: kept for the batch's event,
	// the reports pending before it left to their step.
	pending := r.x.TakeReports()
	paths, err := handlerOf(shippers[0].Kind).h.(kind.Shipper).Shipping(r.x, shippers)
	r.unguarded = r.x.TakeReports()
	for _, p := range pending {
		r.x.Report(p)
	}
	if err != nil {
		return nil, placeBatch(r.plan.Changes[i:end], fmt.Errorf("listing the files it will ship: %w", err))
	}
	for _, p := range paths {
		files[p] = true
	}
	r.shippedBefore = files
	on, err := r.stepsOn(files)
	if err != nil {
		return nil, err
	}
	var out []journaled
	// In reverse list order: the undo, newest first, puts a directory
	// back before what is in it (a purge removes both).
	for _, o := range slices.Backward(on) {
		if o.at >= 0 && o.at < end {
			continue
		}
		img, err := r.capture(o.c)
		if err != nil {
			return nil, &stepError{o.c.Step, fmt.Errorf("saving its pre-image: %w", err)}
		}
		r.guards = append(r.guards, o.c.Step)
		out = append(out, journaledAs(-len(r.guards), img))
	}
	return out, nil
}

// recheckShipped plans again, right after changes [i, end) were made,
// the path steps on files that a change of them that did work shipped
// before or ships now, unchanged or made before, when such a file no
// longer matches its step: each as a modify of itself (an unchanged one,
// counted as any change) or as the change made before, made and
// journaled as any change, its event naming the change; not as drift,
// which a hand makes.
func (r *run) recheckShipped(end int) error {
	if len(r.shipped) == 0 || !r.hasPathSteps() {
		r.shipped, r.shippedBefore = nil, nil
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
	on, err := r.stepsOn(files)
	if err != nil || len(on) == 0 {
		return err
	}
	r.x.Root.Forget() // the package's tools replaced files and directories
	why := make([]string, len(shipped))
	for k, s := range shipped {
		why[k] = s.ID().String()
	}
	var again []stepfmt.Change
	unchanged := 0
	for _, o := range on {
		if o.at >= end {
			continue // made after: it checks the file then
		}
		w, err := checkOp(handlerOf(o.c.Step.Kind).h, kind.NewView(r.x), o.c, o.rec)
		if err != nil {
			return &stepError{o.c.Step, err}
		}
		if w.None() {
			continue
		}
		again = append(again, o.c)
		if o.at < 0 {
			unchanged++
		}
		if r.reshipped == nil {
			r.reshipped = make(map[stepfmt.ID]string)
		}
		r.reshipped[o.c.Step.ID()] = "written again after " + strings.Join(why, ", ") + ", which ships it"
	}
	r.plan.Changes = slices.Insert(r.plan.Changes, end, again...)
	r.plan.Unchanged -= unchanged
	r.g.Counts.Modified += unchanged
	r.g.Counts.Unchanged -= unchanged
	return nil
}

// stepOf returns the step of a journaled change: of the plan, or a guard.
func (r *run) stepOf(i int32) *stepfmt.Step {
	if i < 0 {
		return r.guards[-i-1]
	}
	return r.plan.Changes[i].Step
}
