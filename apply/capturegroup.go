package apply

import (
	"errors"
	"fmt"

	"trail/apply/kind"
	"trail/stepfmt"
)

// capture returns the pre-image of a change's target.
func (r *run) capture(c stepfmt.Change) (kind.Image, error) {
	h := handlerOf(c.Step.Kind).h
	if rc, ok := h.(kind.RecordCapturer); ok {
		var rec *kind.Record
		if c.Op != stepfmt.OpAdd {
			rec = r.cur.applied.Get(c.Step.ID())
		}
		return rc.CaptureFrom(r.x, c.Step, rec)
	}
	return h.Capture(r.x, c.Step)
}

// captureGroup returns the pre-images of the changes [i, end) when they
// are one group of a kind that captures its groups together
// (kind.CaptureGrouper) and none is captured later (a shared batch takes
// them as it goes); nil otherwise, for capture to take each.
func (r *run) captureGroup(i, end int, shared bool) ([]kind.Image, error) {
	changes := r.plan.Changes
	cg, ok := handlerOf(changes[i].Step.Kind).h.(kind.CaptureGrouper)
	if !ok || shared || end-i < 2 || r.groupEnd(i) < end {
		return nil, nil
	}
	steps := make([]*stepfmt.Step, end-i)
	for k := range steps {
		steps[k] = changes[i+k].Step
	}
	imgs, err := cg.CaptureGroup(r.x, steps)
	if err != nil {
		s := steps[0]
		var one *kind.StepFailed
		if errors.As(err, &one) {
			s, err = one.Step, one.Err
		}
		return nil, &stepError{s, fmt.Errorf("saving its pre-image: %w", err)}
	}
	if len(imgs) != len(steps) {
		return nil, &stepError{steps[0], fmt.Errorf("saving its pre-image: %d images for %d steps", len(imgs), len(steps))}
	}
	return imgs, nil
}

// captureAt returns the pre-image of change k of the batch starting at i:
// the group's, when captureGroup took them, else its own capture.
func (r *run) captureAt(pres []kind.Image, i, k int) (kind.Image, error) {
	if pres != nil {
		return pres[k-i], nil
	}
	return r.capture(r.plan.Changes[k])
}
