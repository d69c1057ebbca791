package watch

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// READY=1 comes after the first drift check, with the status line, and
// not while an apply holds the lock and the check cannot run.
func TestReadyAfterFirstCheck(t *testing.T) {
	msgs := notifySocket(t)
	sb := newSandbox(t)
	sb.apply(t, "3f2a1c4e5b", appSteps)
	if err := os.Remove(sb.host("/etc/motd")); err != nil {
		t.Fatal(err)
	}
	lock, err := os.OpenFile(filepath.Join(sb.state, "lock"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	r := start(t, sb, Options{Rescan: -1, Retry: 20 * time.Millisecond})
	select {
	case m := <-msgs:
		t.Fatalf("sent %q while an apply held the lock", m)
	case d := <-r.drifts:
		t.Fatalf("reported %v while an apply held the lock", targets(d))
	case <-time.After(300 * time.Millisecond):
	}
	unix.Flock(int(lock.Fd()), unix.LOCK_UN)
	m := waitMessage(t, msgs, "READY=1")
	if want := "STATUS=applied 3f2a1c4 (main) generation 1, 1 drifted, watching 3 directories"; !strings.Contains(m, want) {
		t.Errorf("READY message %q, want %q in it", m, want)
	}
	select {
	case d := <-r.drifts:
		if !has("FILE /etc/motd")(d) {
			t.Errorf("first report %v, want the deleted motd", targets(d))
		}
	default:
		t.Error("READY=1 came before the first drift report")
	}
}

func TestStatusAndStopping(t *testing.T) {
	msgs := notifySocket(t)
	sb := newSandbox(t)
	sb.apply(t, "c1", appSteps)
	r := start(t, sb, Options{Rescan: -1})
	waitMessage(t, msgs, "READY=1")
	if err := os.Remove(sb.host("/etc/motd")); err != nil {
		t.Fatal(err)
	}
	waitMessage(t, msgs, "STATUS=applied c1 (main) generation 1, 1 drifted, watching 3 directories")
	r.cancel()
	if err := r.end(t); err != nil {
		t.Errorf("Run returned %v after cancel, want nil", err)
	}
	waitMessage(t, msgs, "STOPPING=1")
}

// With WatchdogSec set, WATCHDOG=1 comes from the loop at half of it.
func TestWatchdog(t *testing.T) {
	msgs := notifySocket(t)
	t.Setenv("WATCHDOG_USEC", "100000")
	sb := newSandbox(t)
	sb.apply(t, "c1", appSteps)
	start(t, sb, Options{Rescan: -1})
	for range 3 {
		waitMessage(t, msgs, "WATCHDOG=1")
	}
}

func TestBadWatchdogRefusesToStart(t *testing.T) {
	t.Setenv("WATCHDOG_USEC", "soon")
	sb := newSandbox(t)
	r := start(t, sb, Options{})
	if err := r.end(t); err == nil || !strings.Contains(err.Error(), "WatchdogSec") {
		t.Errorf("Run returned %v, want an error naming WatchdogSec", err)
	}
}

// A state the first check cannot read stops Run with the reason, before
// READY; systemd then shows it as a failed start.
func TestFirstCheckFailureIsFatal(t *testing.T) {
	msgs := notifySocket(t)
	sb := newSandbox(t)
	sb.apply(t, "c1", appSteps)
	if err := os.WriteFile(filepath.Join(sb.state, "applied"), []byte("garbage\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := start(t, sb, Options{})
	err := r.end(t)
	t.Log(err)
	if err == nil || !strings.Contains(err.Error(), "applied") {
		t.Errorf("Run returned %v, want an error about the applied record", err)
	}
	select {
	case m := <-msgs:
		t.Errorf("sent %q though the first check failed", m)
	default:
	}
}
