package apply

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Two processes: a child apply holds the lock (it pauses at its first
// boundary); the parent's apply waits, gives up after its timeout naming
// the child's pid, and with a longer timeout waits its turn and succeeds.
func TestLockTwoProcesses(t *testing.T) {
	sb := newSandbox(t)
	child := sb.list("FILE /etc/child {child}")
	listFile := filepath.Join(t.TempDir(), "child.steps")
	os.WriteFile(listFile, stepsText(child), 0o644)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "TRAIL_TEST_CHILD=1", "TRAIL_TEST_ROOT="+sb.root, "TRAIL_TEST_STATE="+sb.opts.StateDir,
		"TRAIL_TEST_LIST="+listFile, "TRAIL_TEST_COMMIT=child", "TRAIL_TEST_HOLD=1500ms")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	line, _ := bufio.NewReader(out).ReadString('\n')
	if strings.TrimSpace(line) != "holding" {
		t.Fatalf("child said %q", line)
	}
	mine := sb.list("FILE /etc/child {child}\nFILE /etc/parent {parent}")

	sb.e.opts.LockTimeout = 200 * time.Millisecond
	start := time.Now()
	_, err = sb.e.Apply(context.Background(), mine, Meta{Commit: "parent"})
	var le *LockError
	if !errors.As(err, &le) || le.PID != cmd.Process.Pid {
		t.Fatalf("err = %v, want a LockError naming the child's pid %d", err, cmd.Process.Pid)
	}
	if !strings.Contains(err.Error(), "pid") || time.Since(start) < 200*time.Millisecond {
		t.Fatalf("error %q after %s", err, time.Since(start))
	}

	sb.e.opts.LockTimeout = 20 * time.Second
	g, err := sb.e.Apply(context.Background(), mine, Meta{Commit: "parent"})
	if err != nil {
		t.Fatalf("waiting apply: %v", err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
	if g.From == 0 || g.Counts.Added != 1 || g.Counts.Unchanged != 1 {
		t.Fatalf("the parent did not apply after the child: %+v", g)
	}
	if sb.read("/etc/child") != "child" || sb.read("/etc/parent") != "parent" {
		t.Fatal("files missing after both applies")
	}
}
