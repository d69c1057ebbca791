package host

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"trail/dist"
)

// findProc returns the pid of a process whose command line holds every
// one of args in order, or 0.
func findProc(args ...string) int {
	ents, _ := os.ReadDir("/proc")
	want := []byte(strings.Join(args, "\x00") + "\x00")
	for _, ent := range ents {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", ent.Name(), "cmdline"))
		if err == nil && bytes.Contains(cmdline, want) {
			return pid
		}
	}
	return 0
}

// The systemctl that trail init runs to enable its units runs as the
// engine's tools do (internal/proc): in a process group of its own, with
// a TRAIL_RUN token, and named in the state lock while it runs, so that a
// trail killed meanwhile leaves nothing the next one does not kill; the
// lock is released after it. Here systemctl is held up reading a unit
// that is a FIFO (/etc/systemd/system.control comes first in its search
// path) until the test writes the unit into it.
func TestInstallUnitsRunsSystemctlAsAChild(t *testing.T) {
	dir := testCheckout(t, "")
	h, _ := openHost(t, dir)
	root := h.Settings.root()
	fifo := filepath.Join(root, "etc/systemd/system.control/trail-pull.timer")
	if err := os.MkdirAll(filepath.Dir(fifo), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- h.InstallUnits(context.Background(), "timer", "/usr/bin/trail") }()
	unblock := func() {
		w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := dist.Units.ReadFile("trail-pull.timer")
		w.Write(data)
		w.Close()
	}

	var pid int
	for pid == 0 {
		select {
		case err := <-done:
			t.Fatalf("InstallUnits returned before systemctl read the unit: %v", err)
		default:
		}
		pid = findProc("systemctl", "--root", root)
		time.Sleep(5 * time.Millisecond)
	}
	env, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "environ"))
	if err != nil {
		unblock()
		t.Fatal(err)
	}
	var token string
	for _, kv := range strings.Split(string(env), "\x00") {
		if v, ok := strings.CutPrefix(kv, "TRAIL_RUN="); ok {
			token = v
		}
	}
	pgid, _ := unix.Getpgid(pid)
	// The lock names the child's token before it starts and its group
	// once it has: wait for the group while the lock is held at all.
	var lock []byte
	for {
		lock, _ = os.ReadFile(filepath.Join(h.Settings.state(), "lock"))
		if !bytes.Contains(lock, []byte("pid ")) || bytes.Contains(lock, []byte("child "+strconv.Itoa(pid)+" ")) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	unblock()
	if err := <-done; err != nil {
		t.Logf("InstallUnits: %v", err) // the unit read from the FIFO is not where enable expects it
	}
	if token == "" {
		t.Error("systemctl runs without a TRAIL_RUN token")
	}
	if pgid != pid {
		t.Errorf("systemctl runs in process group %d, not one of its own (%d)", pgid, pid)
	}
	if want := "child " + strconv.Itoa(pid) + " "; !strings.Contains(string(lock), want) || token == "" || !strings.Contains(string(lock), token) {
		t.Errorf("the state lock does not name systemctl (pid %d, token %q) while it runs:\n%s", pid, token, lock)
	}
	if after, _ := os.ReadFile(filepath.Join(h.Settings.state(), "lock")); len(after) != 0 {
		t.Errorf("the state lock still holds after InstallUnits:\n%s", after)
	}
}
