package apply

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"trail/internal/fsx"
)

// Applying the applied list again must write nothing: no mtime, ctime or
// inode moves anywhere under the root, and no new generation.
func TestIdempotentReapply(t *testing.T) {
	sb := newSandbox(t)
	steps := "DIR /srv/app mode=0750 owner=alice\nFILE /srv/app/conf {v=1} mode=0640\nLINK /srv/app/current conf\nFILE /etc/motd {hi}"
	g1 := sb.apply(steps, "c1")
	l := sb.list(steps)
	before := mtimes(t, sb.root)
	state := mtimes(t, sb.state)
	time.Sleep(20 * time.Millisecond)
	g2, err := sb.e.Apply(context.Background(), l, Meta{Commit: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	if g2.Number != g1.Number {
		t.Fatalf("re-apply recorded generation %d, want the current %d", g2.Number, g1.Number)
	}
	after := mtimes(t, sb.root)
	for p, v := range before {
		if after[p] != v {
			t.Errorf("%s changed on re-apply: %v -> %v", p, v, after[p])
		}
	}
	for p, v := range mtimes(t, sb.state) {
		if state[p] != v && !strings.HasSuffix(p, "/lock") {
			t.Errorf("state file %s written on re-apply", p)
		}
	}
	gens, _ := sb.e.Generations()
	if len(gens) != 1 {
		t.Fatalf("%d generations after a no-op re-apply, want 1", len(gens))
	}
}

// The same steps under a new commit record a generation that changed
// nothing on the machine.
func TestUnchangedStepsNewCommit(t *testing.T) {
	sb := newSandbox(t)
	steps := "FILE /etc/motd {hi}"
	sb.apply(steps, "c1")
	before := mtimes(t, sb.root)
	g := sb.apply(steps, "c2")
	if g.Number != 2 || g.Commit != "c2" || g.Counts.Unchanged != 1 || g.Result != ResultOK {
		t.Fatalf("generation = %+v", g)
	}
	cur, err := sb.e.Current()
	if err != nil || cur.Commit != "c2" {
		t.Fatalf("Current = %+v, %v; want c2", cur, err)
	}
	for p, v := range mtimes(t, sb.root) {
		if before[p] != v {
			t.Errorf("%s changed", p)
		}
	}
	// The record still works: removing the step restores the machine.
	sb.e.opts.AllowMassRemoval = true
	sb.apply("", "c3")
	if sb.exists("/etc/motd") {
		t.Fatal("/etc/motd not removed after the record was carried to a new generation")
	}
}

// A modified step whose target already matches (only the drift policy
// changed) is not rewritten.
func TestMatchingTargetNotRewritten(t *testing.T) {
	sb := newSandbox(t)
	sb.write("/etc/motd", "hi", 0o644)
	before := mtimes(t, sb.root)
	sb.apply("FILE /etc/motd {hi} mode=0644", "c1")
	sb.apply("FILE /etc/motd {hi} mode=0644 drift=heal", "c2")
	for p, v := range mtimes(t, sb.root) {
		if before[p] != v {
			t.Errorf("%s was written although it matched", p)
		}
	}
}

// A symlink planted in a parent must not make trail write through it,
// whether it points out of the root or into it; the apply is refused and
// nothing changes on either side.
func TestPlantedSymlink(t *testing.T) {
	for name, target := range map[string]string{"outside": "", "inside": "/srv"} {
		t.Run(name, func(t *testing.T) {
			sb := newSandbox(t)
			outside := t.TempDir()
			to := outside
			if target != "" {
				to = sb.host(target)
			}
			if err := os.Symlink(to, sb.host("/etc/cron.d")); err != nil {
				t.Fatal(err)
			}
			before, beforeOut := snapshot(t, sb.root), snapshot(t, outside)
			_, err := sb.applyErr("FILE /etc/cron.d/job {* * * * * root rm -rf /}", "c1")
			if err == nil || !strings.Contains(err.Error(), "test.steps:1") || !strings.Contains(err.Error(), "symlink") {
				t.Fatalf("err = %v, want a refusal naming the symlink at test.steps:1", err)
			}
			if snapshot(t, sb.root) != before || snapshot(t, outside) != beforeOut {
				t.Fatal("something was written through the planted symlink")
			}
		})
	}
}

// A symlink planted between plan and write (after the apply checked) is
// still not followed: the write fails and the apply is undone.
func TestSymlinkPlantedDuringApply(t *testing.T) {
	sb := newSandbox(t)
	outside := t.TempDir()
	sb.apply("DIR /srv/app\nFILE /srv/app/a {a}", "c1")
	l := sb.list("DIR /srv/app\nFILE /srv/app/a {a}\nFILE /srv/app/b {b}\nFILE /etc/x {x}")
	planted := false
	sb.e.opts.crash = func(point string) {
		if point == "intents 0" && !planted {
			planted = true
			os.RemoveAll(sb.host("/srv/app"))
			os.Symlink(outside, sb.host("/srv/app"))
		}
	}
	g, err := sb.e.Apply(context.Background(), l, Meta{Commit: "c2"})
	if !errors.Is(err, fsx.ErrSymlink) || g.Result != ResultFailed || g.ErrorSource != "test.steps:3" {
		t.Fatalf("err = %v, want ErrSymlink", err)
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Fatalf("written through the planted symlink: %v", ents)
	}
}

func TestMassRemovalGuard(t *testing.T) {
	sb := newSandbox(t)
	var ev events
	sb.opts.OnEvent = ev.add
	sb.open()
	sb.apply("FILE /etc/a {a}\nFILE /etc/b {b}\nFILE /etc/c {c}\nFILE /etc/d {d}", "c1")
	before := snapshot(t, sb.root)
	for name, steps := range map[string]string{
		"empty list":         "",
		"more than half":     "FILE /etc/a {a}",
		"replaced by others": "FILE /etc/e {e}\nFILE /etc/f {f}\nFILE /etc/g {g}\nFILE /etc/a {a}",
	} {
		g, err := sb.applyErr(steps, "c2")
		var mr *MassRemovalError
		if !errors.As(err, &mr) {
			t.Fatalf("%s: err = %v, want a mass-removal refusal", name, err)
		}
		if g.Result != ResultRefused || snapshot(t, sb.root) != before {
			t.Fatalf("%s: refused apply changed something (result %s)", name, g.Result)
		}
	}
	if n := len(ev.of(EventRefusal)); n != 3 {
		t.Fatalf("%d refusal events, want 3", n)
	}
	sb.apply("FILE /etc/a {a}\nFILE /etc/b {b}\nFILE /etc/c {c}", "c3") // 1 of 4: allowed
	sb.e.opts.AllowMassRemoval = true
	sb.apply("", "c4")
	if sb.exists("/etc/a") {
		t.Fatal("allowed mass removal did not remove")
	}
}

// A deliberate apply (an admin named the commit) is not stopped by the
// guard: rolling back to before trail removes everything and puts back
// what was there.
func TestMassRemovalDeliberate(t *testing.T) {
	sb := newSandbox(t)
	os.WriteFile(sb.host("/etc/a"), []byte("before trail\n"), 0o644)
	before := snapshot(t, sb.root)
	sb.apply("FILE /etc/a {a}\nFILE /etc/b {b}", "c1")
	if _, err := sb.applyErr("", "c0"); err == nil {
		t.Fatal("an empty list arriving by itself was applied")
	}
	g, err := sb.e.Apply(context.Background(), sb.list(""), Meta{Commit: "c0", Deliberate: true})
	if err != nil || g.Result != ResultOK || g.Counts.Removed != 2 {
		t.Fatalf("deliberate rollback: %v (%+v)", err, g)
	}
	if got := snapshot(t, sb.root); got != before {
		t.Fatalf("rollback to before trail:\n%s\nwant\n%s", got, before)
	}
}

// Two engines on one state directory: the second waits for the lock, then
// gives up naming the holder.
func TestLockInProcess(t *testing.T) {
	sb := newSandbox(t)
	lk, err := sb.e.lock()
	if err != nil {
		t.Fatal(err)
	}
	sb.e.opts.LockTimeout = 150 * time.Millisecond
	start := time.Now()
	_, err = sb.e.Apply(context.Background(), sb.list("FILE /etc/a {a}"), Meta{Commit: "c1"})
	var le *LockError
	if !errors.As(err, &le) || le.PID != os.Getpid() {
		t.Fatalf("err = %v, want a LockError naming pid %d", err, os.Getpid())
	}
	if waited := time.Since(start); waited < 150*time.Millisecond {
		t.Fatalf("gave up after %s, before the timeout", waited)
	}
	lk.Release()
	sb.apply("FILE /etc/a {a}", "c1")
}
