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

// A commit whose list is the applied one records a generation that
// changed nothing, timed from when the apply took the lock: the metrics'
// apply duration of such an apply was zero however long it took.
func TestUnchangedGenerationTimed(t *testing.T) {
	sb := newSandbox(t)
	sb.apply("FILE /srv/x {x}", "A")
	g := sb.apply("FILE /srv/x {x}", "B")
	if g.Number != 2 || g.Counts.Unchanged != 1 || g.NoOp {
		t.Fatalf("the unchanged apply of another commit: %+v", g)
	}
	if !g.End.After(g.Start) {
		t.Fatalf("the generation took no time: start %s, end %s", g.Start, g.End)
	}
}
