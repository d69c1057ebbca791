package apply

import (
	"trail/apply/kind"
	"trail/stepfmt"
)

// undoImageOf returns the image that undoes change c, whose pre-image is
// pre.
func (r *run) undoImageOf(c stepfmt.Change, pre kind.Image) (kind.Image, error) {
	ui, ok := handlerOf(c.Step.Kind).h.(kind.UndoImager)
	if !ok {
		return pre, nil
	}
	var rec *kind.Record
	if c.Op != stepfmt.OpAdd {
		rec = r.cur.applied.Get(c.Step.ID())
	}
	return ui.UndoImage(r.x, c, pre, rec)
}
