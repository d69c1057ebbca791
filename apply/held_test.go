package apply

import (
	"context"
	"strings"
	"testing"
	"time"

	"trail/apply/kind"
)

// The drift of a target is reported right before its step, as each change
// of a batch of paths is checked and made: the events of a batch come in
// the order of its steps, whatever the batch holds back until its writes
// are in place; each event keeps the time it happened at.
func TestDriftEventsKeepTheirStepsOrder(t *testing.T) {
	sb := newSandbox(t)
	var ev events
	sb.opts.OnEvent = ev.add
	sb.open()
	sb.apply("FILE /etc/a {a1}\nFILE /etc/b {b1}\nFILE /etc/c {c1}", "c1")
	for _, p := range []string{"/etc/a", "/etc/b", "/etc/c"} {
		sb.write(p, "by hand", 0o644)
	}
	ev = nil
	var made time.Time // when the first change was made
	sb.e.opts.crash = func(at string) {
		if at == "step 0" {
			made = time.Now()
		}
	}
	sb.apply("FILE /etc/a {a2}\nFILE /etc/b {b2}\nFILE /etc/c {c2}", "c2")
	var got []string
	for _, e := range ev {
		if e.Type == EventStep && strings.Fields(e.Step)[1] == "/etc/a" && e.Time.After(made) {
			t.Errorf("the step of /etc/a is reported at %v, after its change was made (%v)", e.Time, made)
		}
		if e.Type == EventDrift || e.Type == EventStep {
			got = append(got, string(e.Type)+" "+strings.Fields(e.Step)[1])
		}
	}
	want := "drift /etc/a, step /etc/a, drift /etc/b, step /etc/b, drift /etc/c, step /etc/c"
	if strings.Join(got, ", ") != want {
		t.Errorf("events %s, want %s", strings.Join(got, ", "), want)
	}
}

// A batch of paths cancelled before its writes are waited for reports no
// step of its own, but the drift it found (the hand's content, saved);
// the rollback puts everything back and says so.
func TestDriftOfCancelledBatchReported(t *testing.T) {
	sb := newSandbox(t)
	var ev events
	sb.opts.OnEvent = ev.add
	sb.open()
	sb.apply("FILE /etc/a {a1}\nFILE /etc/b {b1}", "c1")
	sb.write("/etc/a", "by hand", 0o644)
	ctx, cancel := context.WithCancel(context.Background())
	sb.e.opts.crash = func(at string) {
		if at == "step 1" {
			cancel()
		}
	}
	ev = nil
	if _, err := sb.e.Apply(ctx, sb.list("FILE /etc/a {a2}\nFILE /etc/n {n}\nFILE /etc/b {b2}"), Meta{Commit: "c2"}); err == nil {
		t.Fatal("the cancelled apply succeeded")
	}
	var got []string
	for _, e := range ev {
		if e.Type == EventDrift || e.Type == EventStep && e.Op != OpUndo || e.Type == EventRollback {
			got = append(got, string(e.Type)+" "+e.Step+" "+e.Result)
		}
	}
	want := "drift FILE /etc/a " + kind.HashKey([]byte("a2")) + " " + DriftStored + ", rollback  " + ResultOK
	if strings.Join(got, ", ") != want {
		t.Errorf("events %s, want %s", strings.Join(got, ", "), want)
	}
	if sb.read("/etc/a") != "by hand" || sb.exists("/etc/n") || sb.read("/etc/b") != "b1" {
		t.Errorf("after the rollback /etc/a holds %q, /etc/n is there: %v", sb.read("/etc/a"), sb.exists("/etc/n"))
	}
}

// A step event without its text (Options.StepText said no) is held with
// the others: a batch cancelled before its writes were waited for
// reports none of its steps changed, with text or without.
func TestTextlessStepEventsHeld(t *testing.T) {
	sb := newSandbox(t)
	var ev events
	sb.opts.OnEvent = ev.add
	sb.opts.StepText = func() bool { return false }
	sb.open()
	ctx, cancel := context.WithCancel(context.Background())
	sb.e.opts.crash = func(at string) {
		if at == "step 1" {
			cancel()
		}
	}
	if _, err := sb.e.Apply(ctx, sb.list("DIR /srv/a\nFILE /srv/a/x {x}\nFILE /srv/a/y {y}"), Meta{Commit: "c1"}); err == nil {
		t.Fatal("the cancelled apply succeeded")
	}
	for _, e := range ev.of(EventStep) {
		if e.Op != OpUndo {
			t.Errorf("a step of the cancelled batch reported: %+v", e)
		}
	}
	if sb.exists("/srv/a") {
		t.Error("/srv/a is there after the rollback")
	}
}

// A held step event is given its text, or not, as it is reported: a
// reporter that wants the text of the first changes it sees only (the
// host's, which prints 30 and counts the rest) is asked once it has seen
// those before, not as the batch makes its changes.
func TestHeldStepTextAskedWhenReported(t *testing.T) {
	sb := newSandbox(t)
	var withText, without int
	sb.opts.OnEvent = func(ev Event) {
		if ev.Type != EventStep {
			return
		}
		if ev.Step != "" {
			withText++
		} else {
			without++
		}
	}
	sb.opts.StepText = func() bool { return withText < 2 }
	sb.open()
	sb.apply("DIR /srv/a\nFILE /srv/a/x {x}\nFILE /srv/a/y {y}\nFILE /srv/a/z {z}", "c1")
	if withText != 2 || without != 2 {
		t.Errorf("%d step events with their text, %d without, want 2 and 2", withText, without)
	}
}
