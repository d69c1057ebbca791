package state

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
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
	waitEnv(t, cmd.Process.Pid, "TRAIL_RUN="+tok)
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

// waitEnv waits until pid has exec'd with entry in its environment:
// between fork and exec a child still shows its parent's.
func waitEnv(t *testing.T, pid int, entry string) {
	t.Helper()
	for range 1000 {
		env, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
		if bytes.Contains(env, []byte(entry+"\x00")) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("pid %d never carried %s", pid, entry)
}
