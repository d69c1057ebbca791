package apply

import (
	"testing"

	"trail/stepfmt"
)

// TestStepOp: an EventStep of a plan change says its operation as the
// plan does, with the plan's sign; an undo shows as a removal.
func TestStepOp(t *testing.T) {
	for _, o := range []stepfmt.Op{stepfmt.OpRemove, stepfmt.OpAdd, stepfmt.OpModify} {
		op := opOf(o)
		if string(op) != o.String() || op.Sign() != string(o.Sign()) {
			t.Errorf("%v: event op %q sign %s, want %q sign %c", o, op, op.Sign(), o.String(), o.Sign())
		}
	}
	if OpUndo.Sign() != "-" {
		t.Errorf("undo sign %s, want -", OpUndo.Sign())
	}
}
