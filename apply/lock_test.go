package apply

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"trail/apply/state"
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

// A program started while the lock is held that shares its open file (as
// any process forked between fork and exec does, until it execs) must not
// keep the lock once trail releases it: the next apply takes it at once.
// And a program an apply runs, left running in the background, holds no
// descriptor of the lock file.
func TestLockNotHeldByChildren(t *testing.T) {
	sb := newSandbox(t)
	lockFile := filepath.Join(sb.e.StateDir(), state.FileLock)
	var sharer *exec.Cmd
	sb.e.opts.OnEvent = func(ev Event) {
		if ev.Type != EventApplyStart || sharer != nil {
			return
		}
		fd := fdOf(t, lockFile)
		dup, err := unix.Dup(fd)
		if err != nil {
			t.Fatal(err)
		}
		f := os.NewFile(uintptr(dup), "lock")
		defer f.Close()
		sharer = exec.Command("sleep", "60")
		sharer.ExtraFiles = []*os.File{f}
		if err := sharer.Start(); err != nil {
			t.Fatal(err)
		}
	}
	pidFile := sb.host("/bg.pid")
	sb.apply(anchors+`CMD bg run="sleep 61 >/dev/null 2>&1 </dev/null & echo $! > bg.pid" undo="true" timeout=5s`, "A")
	if sharer == nil {
		t.Fatal("no apply started")
	}
	defer func() { sharer.Process.Kill(); sharer.Wait() }()
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	bg := strings.TrimSpace(string(data))
	defer func() {
		if pid, err := strconv.Atoi(bg); err == nil {
			unix.Kill(pid, unix.SIGKILL)
		}
	}()
	fds, _ := os.ReadDir("/proc/" + bg + "/fd")
	for _, ent := range fds {
		if to, _ := os.Readlink("/proc/" + bg + "/fd/" + ent.Name()); to == lockFile {
			t.Errorf("the program the apply left running holds the lock file as fd %s", ent.Name())
		}
	}
	sb.e.opts.OnEvent, sb.e.opts.LockTimeout = nil, 0
	if _, err := sb.e.Apply(context.Background(), sb.list(anchors+"FILE /srv/a/x {x}"), Meta{Commit: "B"}); err != nil {
		t.Fatalf("the next apply, after the first released the lock: %v", err)
	}
}

// fdOf returns this process's descriptor of file.
func fdOf(t *testing.T, file string) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	for _, ent := range ents {
		if to, _ := os.Readlink("/proc/self/fd/" + ent.Name()); to == file {
			n, _ := strconv.Atoi(ent.Name())
			return n
		}
	}
	t.Fatalf("no descriptor of %s", file)
	return -1
}
