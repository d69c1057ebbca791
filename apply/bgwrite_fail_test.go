package apply

import (
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// A file a batch of paths creates is written in the background; when that
// write fails (the file system is full) its step is reported failed, at
// its source, and never changed, nor is the file queued after it in the
// same directory, which is not made. The steps whose writes were made
// before it are reported changed, then undone.
func TestBackgroundWriteFailureReported(t *testing.T) {
	sb := newSandbox(t)
	var ev events
	sb.opts.OnEvent = ev.add
	sb.open()
	filler := fillSrv(t, sb)
	_, err := sb.applyErr("DIR /srv/app\nFILE /srv/app/a {a}\nFILE /srv/app/big {"+strings.Repeat("b", 40<<10)+"}\nFILE /srv/app/c {c}", "c1")
	if err == nil || !strings.HasPrefix(err.Error(), "test.steps:3: FILE /srv/app/big: ") || !strings.Contains(err.Error(), "no space left on device") {
		t.Fatalf("error %v; want it placed at test.steps:3: FILE /srv/app/big: ...no space left on device", err)
	}
	changed := map[string]bool{}
	for _, e := range ev.of(EventStep) {
		if e.Op == OpAdd && e.Result == StepChanged {
			changed[strings.Fields(e.Step)[1]] = true
		}
	}
	for p, want := range map[string]bool{"/srv/app": true, "/srv/app/a": true, "/srv/app/big": false, "/srv/app/c": false} {
		if changed[p] != want {
			t.Errorf("%s reported changed: %v, want %v", p, changed[p], want)
		}
	}
	if f := ev.of(EventStepFailed); len(f) != 1 || !strings.HasPrefix(f[0].Step, "FILE /srv/app/big ") || f[0].Source != "test.steps:3" {
		t.Errorf("step-failed events %+v, want one for FILE /srv/app/big at test.steps:3", f)
	}
	if _, err := os.Lstat(sb.host("/srv/app")); !os.IsNotExist(err) {
		t.Errorf("/srv/app after the rollback: %v", err)
	}
	if sb.read("/srv/filler") != filler {
		t.Error("the file trail does not manage changed")
	}
}

// When files of two directories fail to be written (each directory's are
// written by a lane of its own), the failure is placed at the first of
// them in the list's order, as the events of the steps before it are
// reported and those from it on are not.
func TestBackgroundWriteFailuresPlacedFirst(t *testing.T) {
	sb := newSandbox(t)
	var ev events
	sb.opts.OnEvent = ev.add
	sb.open()
	fillSrv(t, sb)
	big := strings.Repeat("b", 40<<10)
	_, err := sb.applyErr("DIR /srv/a\nDIR /srv/b\nFILE /srv/a/big {"+big+"}\nFILE /srv/b/big {B"+big+"}", "c1")
	if err == nil || !strings.HasPrefix(err.Error(), "test.steps:3: FILE /srv/a/big: ") {
		t.Fatalf("error %v; want it placed at test.steps:3: FILE /srv/a/big", err)
	}
	if f := ev.of(EventStepFailed); len(f) != 1 || !strings.HasPrefix(f[0].Step, "FILE /srv/a/big ") {
		t.Errorf("step-failed events %+v, want one for FILE /srv/a/big", f)
	}
	for _, e := range ev.of(EventStep) {
		if e.Op == OpAdd && strings.Contains(e.Step, "big") {
			t.Errorf("a file not written reported: %+v", e)
		}
	}
}

// fillSrv mounts a tmpfs of 256 KiB at the sandbox's /srv and fills all
// but 20 KiB of it with /srv/filler, whose content it returns: a write of
// 40 KiB there fails for want of room.
func fillSrv(t *testing.T, sb *sandbox) string {
	t.Helper()
	mnt := sb.host("/srv")
	if err := unix.Mount("tmpfs", mnt, "tmpfs", 0, "size=256k"); err != nil {
		t.Skipf("SKIP: cannot mount a tmpfs here (%v): the full-root case is untested here", err)
	}
	t.Cleanup(func() { unix.Unmount(mnt, unix.MNT_DETACH) })
	filler := strings.Repeat("f", 236<<10)
	sb.write("/srv/filler", filler, 0o644)
	return filler
}
