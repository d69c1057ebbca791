package watch

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
)

// hardLinkEdit changes a managed file's content through a hard link in a
// directory nobody watches: inotify reports a write only to the directory
// of the name written through, so the watcher gets no event for it. It is
// a drift only a rescan can find.
func hardLinkEdit(t *testing.T, sb *sandbox, target string) {
	t.Helper()
	side := filepath.Join(t.TempDir(), "side")
	if err := os.Link(sb.host(target), side); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(side, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("edited through a hard link\n")
	f.Close()
}

// An overflow delivered on the errors channel (through the test seam
// hooks.errors, which the loop reads exactly like fsnotify's Errors)
// makes a full rescan that finds a drift no event told about.
func TestOverflowRescans(t *testing.T) {
	sb := newSandbox(t)
	sb.apply(t, "c1", appSteps)
	errs := make(chan error)
	r := start(t, sb, Options{Rescan: -1, hooks: &hooks{errors: errs}})
	r.waitReady(t)
	r.waitDrift(t, "the first check is clean", none)
	hardLinkEdit(t, sb, "/srv/app/conf")
	select {
	case d := <-r.drifts:
		t.Fatalf("drift reported without an event or a rescan (%v): the test cannot tell the rescan worked", targets(d))
	case <-time.After(300 * time.Millisecond):
	}
	errs <- fmt.Errorf("inotify: %w", fsnotify.ErrEventOverflow)
	r.waitDrift(t, "conf drifted after the overflow", has("FILE /srv/app/conf"))
	if !strings.Contains(strings.Join(r.log(), "\n"), "overflow") {
		t.Errorf("the overflow was not logged: %q", r.log())
	}
}

// Another error on the channel is logged and changes nothing.
func TestOtherErrorsAreLogged(t *testing.T) {
	sb := newSandbox(t)
	sb.apply(t, "c1", appSteps)
	errs := make(chan error)
	r := start(t, sb, Options{Rescan: -1, hooks: &hooks{errors: errs}})
	r.waitReady(t)
	errs <- fmt.Errorf("inotify: something odd")
	errs <- nil // the loop took the first one
	if !strings.Contains(strings.Join(r.log(), "\n"), "something odd") {
		t.Errorf("error not logged: %q", r.log())
	}
}

// The periodic rescan finds what no event told about.
func TestPeriodicRescan(t *testing.T) {
	sb := newSandbox(t)
	sb.apply(t, "c1", appSteps)
	r := start(t, sb, Options{Rescan: 100 * time.Millisecond})
	r.waitReady(t)
	r.waitDrift(t, "the first check is clean", none)
	hardLinkEdit(t, sb, "/srv/app/conf")
	r.waitDrift(t, "conf drifted", has("FILE /srv/app/conf"))
}

// A real overflow: with the loop held, fsnotify's reader blocks, the
// kernel queue fills past fs.inotify.max_queued_events and the kernel
// drops the rest, including the edit of a managed file. Only the rescan
// the overflow causes can report it.
func TestRealOverflow(t *testing.T) {
	raw, err := os.ReadFile("/proc/sys/fs/inotify/max_queued_events")
	if err != nil {
		t.Skip("no inotify limits to read:", err)
	}
	limit, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil || limit > 100000 {
		t.Skipf("max_queued_events is %q: too many events to make", raw)
	}
	sb := newSandbox(t)
	sb.apply(t, "c1", appSteps)
	var hold sync.Mutex
	r := start(t, sb, Options{Rescan: -1, hooks: &hooks{hold: &hold}})
	r.waitReady(t)
	r.waitDrift(t, "the first check is clean", none)
	hold.Lock()
	// Unmanaged names in a watched directory: each creation is an event
	// (distinct names, so the kernel cannot merge them). The reader takes
	// at most one 64 KiB buffer of them before it blocks.
	for i := range limit + 70000/16 {
		f, err := os.Create(sb.host(fmt.Sprintf("/srv/app/junk%06d", i)))
		if err != nil {
			hold.Unlock()
			t.Fatal(err)
		}
		f.Close()
	}
	if err := os.WriteFile(sb.host("/srv/app/conf"), []byte("lost in the flood\n"), 0o644); err != nil {
		hold.Unlock()
		t.Fatal(err)
	}
	hold.Unlock()
	r.waitDrift(t, "conf drifted after the overflow", has("FILE /srv/app/conf"))
	if !strings.Contains(strings.Join(r.log(), "\n"), "overflow") {
		t.Errorf("drift found, but not through an overflow: %q", r.log())
	}
}
