package apply

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"trail/apply/state"
)

// A step that fails stops the apply, undoes every change it made, records
// a failed generation with the error and the step's source, and leaves the
// root at the old generation.
func TestFailingStepRollsBack(t *testing.T) {
	cases := map[string]struct {
		setup func(t *testing.T, sb *sandbox) string // returns the failing step
	}{
		"immutable directory": {func(t *testing.T, sb *sandbox) string {
			os.MkdirAll(sb.host("/srv/locked"), 0o755)
			if out, err := exec.Command("chattr", "+i", sb.host("/srv/locked")).CombinedOutput(); err != nil {
				t.Skipf("chattr +i not possible here: %v %s", err, out)
			}
			t.Cleanup(func() { exec.Command("chattr", "-i", sb.host("/srv/locked")).Run() })
			return "FILE /srv/locked/f {cannot}"
		}},
		"file system full": {func(t *testing.T, sb *sandbox) string {
			os.MkdirAll(sb.host("/mnt/small"), 0o755)
			if err := unix.Mount("tmpfs", sb.host("/mnt/small"), "tmpfs", 0, "size=64k"); err != nil {
				t.Skipf("cannot mount a tmpfs here: %v", err)
			}
			t.Cleanup(func() { unix.Unmount(sb.host("/mnt/small"), unix.MNT_DETACH) })
			return "FILE /mnt/small/big {" + strings.Repeat("x", 200<<10) + "}"
		}},
	}
	for name, tc := range cases {
		for _, batch := range []int{1, defaultBatch} {
			t.Run(fmt.Sprintf("%s/batch=%d", name, batch), func(t *testing.T) { failingStep(t, tc.setup, batch) })
		}
	}
}

func failingStep(t *testing.T, setup func(t *testing.T, sb *sandbox) string, batch int) {
	sb := newSandbox(t)
	var ev events
	sb.opts.OnEvent = ev.add
	sb.opts.batchSize = batch
	sb.open()
	sb.write("/etc/hostname", "before-trail", 0o644)
	sb.apply("DIR /srv/app\nFILE /srv/app/a {a1}\nFILE /etc/hostname {web1}\nLINK /srv/app/l a", "c1")
	failing := setup(t, sb)
	old := snapshot(t, sb.root)
	steps := "DIR /srv/app mode=0700\nFILE /srv/app/a {a2} mode=0600\nFILE /srv/app/new {n}\nDIR /srv/app/sub\n" +
		failing + "\nFILE /etc/hostname {web2}\nLINK /srv/app/l new"
	g, err := sb.applyErr(steps, "c2")
	if err == nil {
		t.Fatal("the apply succeeded")
	}
	if !strings.Contains(err.Error(), "test.steps:5") {
		t.Errorf("error %q does not name the failing step's source test.steps:5", err)
	}
	if g == nil || g.Result != ResultFailed || g.ErrorSource != "test.steps:5" || g.Error == "" {
		t.Fatalf("generation = %+v, want failed at test.steps:5", g)
	}
	if now := snapshot(t, sb.root); now != old {
		t.Fatalf("root not at the old generation after the failure:\n%s\nwant:\n%s", now, old)
	}
	if cur, _ := sb.e.Current(); cur == nil || cur.Commit != "c1" {
		t.Fatalf("current = %+v, want c1", cur)
	}
	if _, err := os.Stat(sb.e.path(state.FileJournal)); !os.IsNotExist(err) {
		t.Fatal("journal left after a clean rollback")
	}
	if len(ev.of(EventStepFailed)) != 1 || len(ev.of(EventRollback)) != 1 {
		t.Fatalf("events: %d step-failed, %d rollback; want 1 each", len(ev.of(EventStepFailed)), len(ev.of(EventRollback)))
	}
	if f := ev.of(EventStepFailed)[0]; f.Source != "test.steps:5" || f.Err == nil {
		t.Fatalf("step-failed event = %+v", f)
	}
	// The host can still move on from the old generation.
	sb.apply("DIR /srv/app\nFILE /srv/app/a {a3}", "c3")
	if got := sb.read("/srv/app/a"); got != "a3" {
		t.Fatalf("after recovery apply /srv/app/a = %q", got)
	}
	if got := sb.read("/etc/hostname"); got != "before-trail" {
		t.Fatalf("/etc/hostname = %q, want its pre-image back", got)
	}
}

// A cancelled context stops the apply between steps and undoes it.
func TestCancelledApplyRollsBack(t *testing.T) {
	sb := newSandbox(t)
	sb.apply("FILE /etc/a {a}", "c1")
	old := snapshot(t, sb.root)
	ctx, cancel := context.WithCancel(context.Background())
	sb.e.opts.batchSize = 1
	sb.e.opts.crash = func(p string) {
		if p == "step 1" {
			cancel()
		}
	}
	g, err := sb.e.Apply(ctx, sb.list("FILE /etc/a {b}\nFILE /etc/b {b}\nFILE /etc/c {c}"), Meta{Commit: "c2"})
	if err == nil || g.Result != ResultFailed {
		t.Fatalf("cancelled apply: %v, %+v", err, g)
	}
	if snapshot(t, sb.root) != old {
		t.Fatal("cancelled apply not undone")
	}
}
