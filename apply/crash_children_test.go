package apply

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"trail/apply/internal/proc"
)

// An apply is killed with SIGKILL while a program it started runs: a
// command whose shell runs another shell that sleeps, then writes a file,
// in the command's process group or in a session of its own (as apt-get
// runs dpkg); a usermod held up by the account files' lock (/etc/.pwd.lock, which the
// test holds). Recovery must kill what the dead apply started before it
// undoes it: after recovery nothing it started runs, and once the
// programs would have finished, the root is exactly the old generation.
func TestCrashWhileChildRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	cases := []struct {
		name, step string
		argv       []string // the program the apply is killed in
		pwdLock    bool
	}{
		{"command with a grandchild",
			`CMD late run="touch started; sh -c 'sleep 2.517; touch late'" undo="rm -f started" timeout=30s`,
			[]string{"sleep", "2.517"}, false},
		{"command whose grandchild leaves the group",
			`CMD late run="touch started; setsid sh -c 'sleep 2.613; touch late'" undo="rm -f started" timeout=30s`,
			[]string{"sleep", "2.613"}, false},
		{"usermod",
			`USER alice shell=/bin/bash`,
			[]string{"usermod"}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sb := acctSandbox(t, true)
			sb.apply(anchors, "A")
			sb.e.Close()
			old := kindsSnapshot(t, sb.root)
			list := writeList(t, sb, anchors+tc.step)
			var pwdLock *os.File
			if tc.pwdLock {
				pwdLock = holdPwdLock(t, sb.host("/etc/.pwd.lock"))
				defer pwdLock.Close()
			}
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "TRAIL_TEST_CHILD=1", "TRAIL_TEST_ROOT="+sb.root,
				"TRAIL_TEST_STATE="+sb.opts.StateDir, "TRAIL_TEST_LIST="+list, "TRAIL_TEST_COMMIT=B")
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			argv := tc.argv
			if tc.pwdLock {
				argv = append(argv, "--root", sb.root)
			}
			if waitProc(argv, 30*time.Second) == 0 {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("the apply never ran %v:\n%s", argv, out.String())
			}
			cmd.Process.Kill()
			cmd.Wait()

			e, err := Open(Options{Root: sb.root, StateDir: sb.opts.StateDir})
			if err != nil {
				t.Fatalf("recovery: %v", err)
			}
			defer e.Close()
			if pid := findProc(argv); pid != 0 {
				t.Errorf("after recovery, %v (pid %d) that the killed apply started still runs", argv, pid)
			}
			if cur, err := e.Current(); err != nil || cur.Commit != "A" {
				t.Fatalf("after recovery the host is at %v (%v), want A", cur, err)
			}
			if tc.pwdLock {
				// A useradd still waiting would go on now.
				pwdLock.Close()
			}
			// Longer than the programs would take to finish.
			time.Sleep(3 * time.Second)
			if got := kindsSnapshot(t, sb.root); got != old {
				t.Fatalf("the root is not A once the killed apply's programs would have ended:\n%s", diffLines(got, old))
			}
			checkState(t, e, "after recovery")
		})
	}
}

// holdPwdLock takes the lock lckpwdf(3) takes (a write lock on all of
// /etc/.pwd.lock), so that a shadow tool on the root waits for it. The
// lock is the process's until any descriptor of the file is closed.
func holdPwdLock(t *testing.T, file string) *os.File {
	t.Helper()
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	lk := unix.Flock_t{Type: unix.F_WRLCK}
	if err := unix.FcntlFlock(f.Fd(), unix.F_SETLK, &lk); err != nil {
		t.Fatal(err)
	}
	return f
}

// waitProc waits until a process whose command line starts with argv, in
// order (a prefix of its arguments), runs, and returns its pid, or 0 when
// none did within limit.
func waitProc(argv []string, limit time.Duration) int {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if pid := findProc(argv); pid != 0 {
			return pid
		}
		time.Sleep(20 * time.Millisecond)
	}
	return 0
}

// findProc returns the pid of a live process whose arguments hold argv in
// order, or 0.
func findProc(argv []string) int {
	ents, _ := os.ReadDir("/proc")
	for _, ent := range ents {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile(filepath.Join("/proc", ent.Name(), "cmdline"))
		if err != nil || len(data) == 0 {
			continue
		}
		if _, _, state, ok := proc.Stat(pid); !ok || state == 'Z' {
			continue
		}
		args := strings.Split(strings.TrimRight(string(data), "\x00"), "\x00")
		if containsInOrder(args, argv) {
			return pid
		}
	}
	return 0
}

func containsInOrder(args, want []string) bool {
	i := 0
	for _, a := range args {
		if i < len(want) && a == want[i] {
			i++
		}
	}
	return i == len(want)
}

// A shadow tool killed half-way leaves its locks and new files in /etc.
// Recovery removes those whose owner is gone — a lock naming a dead pid,
// or a pid now used by a later process, the file it was linked from, a
// new file never renamed into place — and keeps what a live process
// holds, so that the account tools work again and the root is the old
// generation.
func TestRecoveryClearsShadowLeftovers(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	sb := acctSandbox(t, true)
	sb.apply(anchors, "A")
	sb.e.Close()
	old := kindsSnapshot(t, sb.root)
	const b = anchors + "USER late uid=1600\n"
	h := &crashHarness{t: t, root: sb.root, state: sb.opts.StateDir, good: writeList(t, sb, b)}
	if !h.run(sb.root, sb.opts.StateDir, h.good, 1) {
		t.Fatal("the apply was not killed")
	}

	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	later := exec.Command("sleep", "60")
	if err := later.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { later.Process.Kill(); later.Wait() }()
	past := time.Now().Add(-time.Hour)
	plant := func(name, content string, mtime time.Time) {
		sb.write(name, content, 0o600)
		if err := os.Chtimes(sb.host(name), mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	deadPid, laterPid, me := strconv.Itoa(dead.Process.Pid), strconv.Itoa(later.Process.Pid), strconv.Itoa(os.Getpid())
	plant("/etc/passwd.lock", laterPid, past) // its pid is reused by a later process
	plant("/etc/passwd."+deadPid, deadPid, past)
	plant("/etc/passwd+", "half", past)
	plant("/etc/shadow.lock", deadPid, past)
	plant("/etc/shadow+", "half", past)
	plant("/etc/nshadow", "half", past)
	plant("/etc/subuid.lock", laterPid, past) // trail locks the files of subordinate ids too
	plant("/etc/subgid."+deadPid, deadPid, past)
	plant("/etc/group.lock", me, time.Now()) // held by a live process: kept
	plant("/etc/group+", "half", time.Now())

	e, err := Open(Options{Root: sb.root, StateDir: sb.opts.StateDir})
	if err != nil {
		t.Fatalf("recovery: %v", err)
	}
	defer e.Close()
	for _, gone := range []string{"/etc/passwd.lock", "/etc/passwd." + deadPid, "/etc/passwd+", "/etc/shadow.lock", "/etc/shadow+", "/etc/subuid.lock", "/etc/subgid." + deadPid} {
		if sb.exists(gone) {
			t.Errorf("%s is left after recovery", gone)
		}
	}
	for _, kept := range []string{"/etc/group.lock", "/etc/group+", "/etc/nshadow"} {
		if !sb.exists(kept) {
			t.Errorf("%s, which a live process holds, was removed", kept)
		}
	}
	// The live holder finishes.
	for _, f := range []string{"/etc/group.lock", "/etc/group+", "/etc/nshadow"} {
		os.Remove(sb.host(f))
	}
	if got := kindsSnapshot(t, sb.root); got != old {
		t.Fatalf("after recovery the root is not A:\n%s", diffLines(got, old))
	}
	if _, err := e.Apply(context.Background(), sb.list(b), Meta{Commit: "B"}); err != nil {
		t.Fatalf("B applied again after recovery: %v", err)
	}
}

// What a command that finished left running on purpose (a daemon it
// started) is not what the killed apply was running when it died, though
// the same trail started both: recovery leaves the daemon alone.
func TestRecoveryKeepsWhatFinishedCommandsLeft(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	sb := newSandbox(t)
	sb.apply(anchors, "A")
	sb.e.Close()
	list := writeList(t, sb, anchors+`CMD daemon run="setsid sleep 61.7 >/dev/null 2>&1 </dev/null &" undo=true timeout=5s
CMD slow run="sleep 2.719" undo=true timeout=30s`)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "TRAIL_TEST_CHILD=1", "TRAIL_TEST_ROOT="+sb.root,
		"TRAIL_TEST_STATE="+sb.opts.StateDir, "TRAIL_TEST_LIST="+list, "TRAIL_TEST_COMMIT=B")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if waitProc([]string{"sleep", "2.719"}, 30*time.Second) == 0 {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal("the apply never ran the slow command")
	}
	daemon := findProc([]string{"sleep", "61.7"})
	if daemon == 0 {
		t.Fatal("the daemon did not start")
	}
	defer syscall.Kill(daemon, syscall.SIGKILL)
	cmd.Process.Kill()
	cmd.Wait()
	e, err := Open(Options{Root: sb.root, StateDir: sb.opts.StateDir})
	if err != nil {
		t.Fatalf("recovery: %v", err)
	}
	defer e.Close()
	if findProc([]string{"sleep", "2.719"}) != 0 {
		t.Error("the command the killed apply ran still runs")
	}
	if _, _, state, ok := proc.Stat(daemon); !ok || state == 'Z' {
		t.Error("recovery killed the daemon a finished command left running")
	}
}

// An apply that writes new users itself is killed while it holds some of
// the shadow tools' locks: /etc/.pwd.lock and passwd.lock are its own,
// group.lock a live process's (the test), which it waits for. Recovery
// removes the lock the dead apply left and keeps the live one; the root
// is A, and once the live holder is done the users are applied.
func TestCrashHoldingAccountLocks(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	sb := acctSandbox(t, true)
	sb.apply(anchors, "A")
	sb.e.Close()
	old := kindsSnapshot(t, sb.root)
	const b = anchors + "USER late uid=1600\nUSER later uid=1610\n"
	list := writeList(t, sb, b)
	sb.write("/etc/group.lock", strconv.Itoa(os.Getpid()), 0o600)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "TRAIL_TEST_CHILD=1", "TRAIL_TEST_ROOT="+sb.root,
		"TRAIL_TEST_STATE="+sb.opts.StateDir, "TRAIL_TEST_LIST="+list, "TRAIL_TEST_COMMIT=B")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	mine := strconv.Itoa(cmd.Process.Pid)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if data, err := os.ReadFile(sb.host("/etc/passwd.lock")); err == nil && string(data) == mine {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("the apply never took passwd.lock:\n%s", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()

	e, err := Open(Options{Root: sb.root, StateDir: sb.opts.StateDir})
	if err != nil {
		t.Fatalf("recovery: %v", err)
	}
	defer e.Close()
	if sb.exists("/etc/passwd.lock") {
		t.Error("the killed apply's passwd.lock is left after recovery")
	}
	if !sb.exists("/etc/group.lock") {
		t.Error("group.lock, which a live process holds, was removed")
	}
	if cur, err := e.Current(); err != nil || cur.Commit != "A" {
		t.Fatalf("after recovery the host is at %v (%v), want A", cur, err)
	}
	os.Remove(sb.host("/etc/group.lock"))
	if got := kindsSnapshot(t, sb.root); got != old {
		t.Fatalf("after recovery the root is not A:\n%s", diffLines(got, old))
	}
	if _, err := e.Apply(context.Background(), sb.list(b), Meta{Commit: "B"}); err != nil {
		t.Fatalf("B applied again after recovery: %v", err)
	}
	if !strings.Contains(sb.read("/etc/passwd"), "\nlate:x:1600:") || !strings.Contains(sb.read("/etc/passwd"), "\nlater:x:1610:") {
		t.Fatalf("after B the users are not there:\n%s", sb.read("/etc/passwd"))
	}
}
