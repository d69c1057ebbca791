package apply

import (
	"errors"

	"trail/apply/kind"
	"trail/stepfmt"
)

// The one dispatch of a plan's three operations to a kind, for the plan's
// checks, the run's checks and the run's changes alike: a removal restores
// the target's origin (the pre-image its record keeps), an add makes the
// step so from nothing trail recorded, and a modify makes it so with the
// target's record as prior (what the old step managed and the new one
// does not goes back to the origin). rec is the target's record, nil for
// an add.

// errNoOrigin refuses the reverse of a step trail has no pre-image of.
var errNoOrigin = errors.New("no record of what was there before trail managed it: cannot reverse")

// checkOp returns the work change c would do.
func checkOp(h kind.Handler, v *kind.View, c stepfmt.Change, rec *kind.Record) (kind.Work, error) {
	switch c.Op {
	case stepfmt.OpRemove:
		if rec == nil {
			return kind.Work{}, errNoOrigin
		}
		return h.CheckRestore(v, c.Step, rec.Origin)
	case stepfmt.OpModify:
		return h.Check(v, c.Step, rec)
	}
	return h.Check(v, c.Step, nil)
}

// doOp makes change c, doing the work w checkOp returned.
func doOp(h kind.Handler, x *kind.Exec, c stepfmt.Change, rec *kind.Record, w kind.Work) error {
	if c.Op == stepfmt.OpRemove {
		return h.Restore(x, c.Step, rec.Origin, w)
	}
	return h.Forward(x, c.Step, w)
}
