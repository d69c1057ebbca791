package state

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// A lock left by a trail killed after it named a child by its token but
// before it knew the child's pid ("child 0 0 TOKEN"): the next holder
// kills every process carrying the token before it goes on.
func TestAcquireKillsChildNamedByToken(t *testing.T) {
	file := filepath.Join(t.TempDir(), "lock")
	const tok = "99999999.1.1"
	if err := os.WriteFile(file, []byte("pid 99999999\nsince 2026-01-01T00:00:00Z\nchild 0 0 "+tok+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sleep", "60")
	cmd.Env = []string{"TRAIL_RUN=" + tok}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	l, err := Acquire(file, time.Second)
	if err != nil {
		cmd.Process.Kill()
		t.Fatal(err)
	}
	defer l.Release()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("the program exited by itself")
		}
	case <-time.After(10 * time.Second):
		// Killed, it would have been reaped at once; alive, it sleeps 60 s.
		cmd.Process.Kill()
		t.Fatal("the lock was taken while a program the killed trail named by its token still runs")
	}
}
