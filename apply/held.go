package apply

import (
	"io/fs"
	"slices"
	"time"
)

// A batch of paths writes the files it creates in the background
// (fsx.Root.Background): a step is made, as far as the run can tell, only
// once the batch's Flush has waited for its write. So the events of the
// batch's steps (and heals) are held until then and reported once their
// writes are in place; a step whose write failed is reported failed,
// never changed. When the Flush fails, the steps before the first whose
// write failed are reported (theirs were made, and the rollback's undo
// reports them undone); that step and those after it are not. When the
// batch fails before its Flush, none of its held step events is reported:
// whether their writes were made is not known, and the rollback says
// what it undid. A drift is held with them, so that it still comes right
// before its step, and is reported whatever the batch's end: what was
// found there was found, and saved. Each held event keeps the time it
// happened at.

// heldEvent is a held event and the target of its step.
type heldEvent struct {
	target string
	Event
}

// hold starts holding the step events of a batch of paths.
func (r *run) hold() { r.holding, r.held = true, r.held[:0] }

// stepEvent reports ev, the event of a step (or its drift) at target, or
// holds it.
func (r *run) stepEvent(target string, ev Event) {
	if r.holding && r.e.opts.OnEvent != nil {
		ev.Commit, ev.Branch, ev.Generation = r.g.Commit, r.g.Branch, r.g.Number
		ev.Time = time.Now()
		r.held = append(r.held, heldEvent{target, ev})
		return
	}
	r.event(ev)
}

// release reports the held events: all of them when the batch's writes
// were made (err nil); else the drifts and the events before the first
// of a step whose write failed (err names its path), or the drifts alone
// when err names none of the held steps' paths; and forgets the rest.
func (r *run) release(err error) {
	n := len(r.held)
	if err != nil {
		failed := map[string]bool{}
		failedPaths(err, failed)
		n = slices.IndexFunc(r.held, func(ev heldEvent) bool { return ev.Type != EventDrift && failed[ev.target] })
		if n < 0 {
			n = 0
		}
	}
	r.report(n)
}

// drop reports the held drifts alone, forgets the rest and stops holding:
// the batch failed before its writes were waited for.
func (r *run) drop() { r.report(0) }

// report reports the first n held events and the drifts after them,
// forgets the rest and stops holding.
func (r *run) report(n int) {
	for i, ev := range r.held {
		if i < n || ev.Type == EventDrift {
			r.e.emit(ev.Event)
		}
	}
	clear(r.held)
	r.holding, r.held = false, r.held[:0]
}

// failedPaths adds to set the path of every fs.PathError in err, through
// wrapped and joined errors (each lane of the background writer keeps
// its own).
func failedPaths(err error, set map[string]bool) {
	if err == nil {
		return
	}
	if pe, ok := err.(*fs.PathError); ok {
		set[pe.Path] = true
	}
	switch u := err.(type) {
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			failedPaths(e, set)
		}
	case interface{ Unwrap() error }:
		failedPaths(u.Unwrap(), set)
	}
}
