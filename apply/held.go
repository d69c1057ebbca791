package apply

import (
	"io/fs"
	"slices"
	"strings"
	"time"

	"trail/stepfmt"
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

// heldEvent is the event of a step (or its heal, or its drift) as the
// run holds it: its text (the step line, the source) is made as it is
// reported, and only when the reporter uses it (Options.StepText), so
// that a batch of 4096 changes holds about 150 bytes for each (390
// as whole events).
type heldEvent struct {
	step   *stepfmt.Step
	typ    EventType
	op     StepOp
	result string
	detail string
	dur    time.Duration
	at     time.Time
}

// hold starts holding the step events of a batch of paths.
func (r *run) hold() { r.holding, r.held = true, r.held[:0] }

// stepEvent reports h, or holds it.
func (r *run) stepEvent(h heldEvent) {
	if r.holding {
		r.held = append(r.held, h)
		return
	}
	r.reportStep(h)
}

// reportStep reports h, with its text unless it is a change's step
// event the reporter only counts.
func (r *run) reportStep(h heldEvent) {
	ev := Event{Type: h.typ, Op: h.op, Result: h.result, Duration: h.dur, Time: h.at}
	if h.typ != EventStep || r.heal || r.e.stepText() {
		ev.Step, ev.Source, ev.Detail = stepLine(h.step), h.step.Src.String(), h.detail
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
		failed := map[string]*fs.PathError{}
		failedPaths(err, failed)
		n = slices.IndexFunc(r.held, func(h heldEvent) bool { return h.typ != EventDrift && failed[h.step.Target] != nil })
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
	for i, h := range r.held {
		if i < n || h.typ == EventDrift {
			r.reportStep(h)
		}
	}
	clear(r.held)
	r.holding, r.held = false, r.held[:0]
}

// failedPaths adds to set every fs.PathError in err by its path (the
// first of a path), through wrapped and joined errors (each lane of the
// background writer keeps its own).
func failedPaths(err error, set map[string]*fs.PathError) {
	if err == nil {
		return
	}
	if pe, ok := err.(*fs.PathError); ok && set[pe.Path] == nil {
		set[pe.Path] = pe
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

// detailOf joins what a change did, noted and reported, for its event;
// one of them alone is as it is.
func detailOf(parts ...[]string) string {
	var one []string
	for _, p := range parts {
		switch {
		case len(p) == 0:
		case one != nil:
			return strings.Join(slices.Concat(parts...), "; ")
		default:
			one = p
		}
	}
	return strings.Join(one, "; ")
}
