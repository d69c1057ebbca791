package apply

import (
	"strings"
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

// Options.StepText decides, step by step, whether an EventStep of a change
// carries its text: one a reporter will not use comes with its operation
// and result only.
func TestStepTextAsked(t *testing.T) {
	sb := newSandbox(t)
	var evs []Event
	asked := 0
	sb.opts.OnEvent = func(ev Event) {
		if ev.Type == EventStep {
			evs = append(evs, ev)
		}
	}
	sb.opts.StepText = func() bool { asked++; return asked == 2 }
	sb.open()
	sb.apply("DIR /srv/a\nFILE /srv/a/x {x}\nFILE /srv/a/y {y}", "A")
	if len(evs) != 3 || asked != 3 {
		t.Fatalf("%d step events, StepText asked %d times, want 3 and 3: %+v", len(evs), asked, evs)
	}
	for i, ev := range evs {
		if ev.Op != OpAdd || ev.Result != StepChanged {
			t.Errorf("event %d: op %q result %q, want add, changed", i, ev.Op, ev.Result)
		}
		if text := ev.Step != "" || ev.Source != "" || ev.Detail != ""; text != (i == 1) {
			t.Errorf("event %d: step %q source %q detail %q, text wanted: %v", i, ev.Step, ev.Source, ev.Detail, i == 1)
		}
	}
	if !strings.HasPrefix(evs[1].Step, "FILE /srv/a/x sha256:") || evs[1].Detail != "create file" {
		t.Errorf("the event with text: %+v", evs[1])
	}
}
