package apply

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// A failure to rename a file into place (an immutable target) fails the
// step it belongs to, with the step's source, kind and target.
func TestRenameFailureNamesStep(t *testing.T) {
	for _, batch := range []int{1, defaultBatch} {
		sb := newSandbox(t)
		sb.opts.batchSize = batch
		sb.open()
		sb.write("/srv/locked", "old", 0o644)
		if out, err := exec.Command("chattr", "+i", sb.host("/srv/locked")).CombinedOutput(); err != nil {
			t.Skipf("SKIP: chattr +i is not possible on this test file system (%v %s): the immutable-target case is untested here", err, out)
		}
		t.Cleanup(func() { exec.Command("chattr", "-i", sb.host("/srv/locked")).Run() })
		_, err := sb.applyErr("DIR /srv/app\nFILE /srv/app/a {a}\nFILE /srv/locked {new}\nFILE /srv/app/b {b}", "c1")
		if err == nil || !strings.HasPrefix(err.Error(), "test.steps:3: FILE /srv/locked: ") || !strings.Contains(err.Error(), "operation not permitted") {
			t.Fatalf("batch %d: error %v; want it placed at test.steps:3: FILE /srv/locked: ...operation not permitted", batch, err)
		}
	}
}

// A state directory that runs out of space fails the apply with the step
// whose pre-image or journal entry could not be written, and changes
// nothing.
func TestStateDiskFullNamesStep(t *testing.T) {
	state := t.TempDir()
	if err := unix.Mount("tmpfs", state, "tmpfs", 0, "size=256k"); err != nil {
		t.Skipf("SKIP: cannot mount a tmpfs here (%v): the full-state-disk case is untested here", err)
	}
	t.Cleanup(func() { unix.Unmount(state, unix.MNT_DETACH) })
	sb := newSandbox(t)
	sb.opts.StateDir = filepath.Join(state, "trail")
	sb.open()
	sb.apply("DIR /srv/app\nFILE /srv/app/a {a}", "c1")
	big := strings.Repeat("x", 400<<10)
	sb.write("/srv/app/big", big, 0o644) // not trail's: its pre-image must be saved
	_, err := sb.applyErr("DIR /srv/app\nFILE /srv/app/a {a}\nFILE /srv/app/big {small}", "c2")
	if err == nil || !strings.HasPrefix(err.Error(), "test.steps:3: FILE /srv/app/big: ") || !strings.Contains(err.Error(), "no space left on device") {
		t.Fatalf("error %v; want it placed at test.steps:3: FILE /srv/app/big: ...no space left on device", err)
	}
	if sb.read("/srv/app/big") != big {
		t.Fatal("the file whose pre-image could not be saved was changed")
	}
	if _, err := os.Stat(sb.host("/srv/app/a")); err != nil {
		t.Fatal(err)
	}
}
