package apply

import (
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

	sbx "trail/apply/internal/sandbox"
	"trail/apply/kind"
	"trail/apply/kinds/accounts"
	"trail/apply/state"
	"trail/internal/fsx"
)

// holdAccounts takes the shadow tools' locks on root's account files, as
// a tool would, and returns their release.
func holdAccounts(t *testing.T, root string) func() {
	t.Helper()
	r, err := fsx.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	release, err := accounts.LockAccounts(kind.NewExec(r, nil, nil))
	if err != nil {
		r.Close()
		t.Fatal(err)
	}
	return func() { release(); r.Close() }
}

// noLockLeft fails the test when a lock, or the file a lock is linked
// from, is left in the root's /etc.
func noLockLeft(t *testing.T, root, when string) {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(root, "etc"))
	if err != nil {
		t.Fatal(err)
	}
	for _, ent := range ents {
		n := ent.Name()
		base, pid, _ := strings.Cut(n, ".")
		if strings.HasSuffix(n, ".lock") && n != ".pwd.lock" || pid != "" && strings.Trim(pid, "0123456789") == "" && base != "" {
			t.Errorf("%s: /etc/%s left", when, n)
		}
	}
}

// committed reports whether the apply whose journal is in stateDir had
// committed when it was cut (or left no journal).
func committed(t *testing.T, stateDir string) bool {
	t.Helper()
	file := filepath.Join(stateDir, state.FileJournal)
	data, err := os.ReadFile(file)
	if err != nil {
		return true
	}
	js, err := state.ParseJournal(file, data)
	if err != nil {
		t.Fatal(err)
	}
	cur, err := state.ReadAppliedGeneration(filepath.Join(stateDir, state.FileApplied))
	if err != nil {
		t.Fatal(err)
	}
	return cur == js.Gen
}

// Recovery restores the account files under the shadow tools' locks: an
// interrupted apply that added a user is not undone while another process
// holds /etc/.pwd.lock (lckpwdf's fcntl lock) and the files' NAME.lock
// links; the recovery fails saying so, writes nothing, keeps the journal
// and leaves no lock of its own, and the next run, the locks released,
// undoes it.
func TestRecoveryTakesAccountLocks(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out the account lock's 15 s")
	}
	t.Parallel()
	sb := acctSandbox(t, true)
	sb.apply(anchors, "A")
	sb.e.Close()
	old := sb.accounts()
	list := anchors + "USER quill uid=1500\n"
	h := &crashHarness{t: t, root: sb.root, state: sb.opts.StateDir, good: writeList(t, sb, list), goodList: sb.list(list)}

	// Cut the apply right after the user is written, before it commits.
	var root, stateDir string
	for n := 1; ; n++ {
		root, stateDir = h.fresh(n)
		if !h.run(root, stateDir, h.good, n) {
			t.Fatal("no crash point after the user is written and before the commit")
		}
		data, err := os.ReadFile(filepath.Join(root, "etc/passwd"))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(data), "\nquill:") && !committed(t, stateDir) {
			break
		}
	}
	cut := sbx.At(t, root)
	was := cut.Accounts()

	release := holdAccounts(t, root)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "TRAIL_TEST_CHILD=1", "TRAIL_TEST_ROOT="+root, "TRAIL_TEST_STATE="+stateDir,
		"TRAIL_TEST_LIST="+h.good, "TRAIL_TEST_COMMIT=B")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		release()
		t.Fatalf("recovery while the account files are locked: %v, want it to fail (exit 2)\n%s", err, out)
	}
	if !strings.Contains(string(out), "/etc/.pwd.lock") || !strings.Contains(string(out), "shadow tool holds the account files") {
		t.Errorf("recovery's error does not name the lock:\n%s", out)
	}
	cut.SameAccounts(was, "recovery while the files are locked")
	if _, err := os.Stat(filepath.Join(stateDir, state.FileJournal)); err != nil {
		t.Errorf("the journal is gone after a failed recovery: %v", err)
	}
	release()
	noLockLeft(t, root, "after the failed recovery")

	e, err := Open(Options{Root: root, StateDir: stateDir})
	if err != nil {
		t.Fatalf("recovery after the locks are released: %v", err)
	}
	defer e.Close()
	cut.SameAccounts(old, "recovery after the locks are released")
	noLockLeft(t, root, "after recovery")
}

// The undo of a failed apply restores the account files under the shadow
// tools' locks too: with a lock taken after the user was added (here by
// the failing command, on the test's behalf), the undo waits for it, and
// runs when it is released.
func TestUndoWaitsForAccountLocks(t *testing.T) {
	t.Parallel()
	sb := acctSandbox(t, true)
	sb.apply(anchors, "A")
	before := sb.accounts()
	dir := t.TempDir()
	ask, told := filepath.Join(dir, "ask"), filepath.Join(dir, "told")
	for _, f := range []string{ask, told} {
		if err := unix.Mkfifo(f, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	list := anchors + "USER quill uid=1500\nCMD lock run=\"echo lock >" + ask + "; read ok <" + told + "; exit 1\" undo=true timeout=60s\n"
	l := sb.list(list)

	held := make(chan func())
	go func() {
		f, err := os.Open(ask) // the command's open
		if err != nil {
			held <- nil
			return
		}
		f.Read(make([]byte, 8))
		f.Close()
		release := holdAccounts(t, sb.root)
		if w, err := os.OpenFile(told, os.O_WRONLY, 0); err == nil {
			w.WriteString("ok\n")
			w.Close()
		}
		held <- release
	}()
	done := make(chan error, 1)
	go func() {
		_, err := sb.e.Apply(context.Background(), l, Meta{Commit: "B"})
		done <- err
	}()
	release := <-held
	if release == nil {
		t.Fatal("the command never asked for the lock")
	}
	// The undo waits on the lock while its NAME.PID, linked to
	// passwd.lock as the tools do, is there.
	waiting := filepath.Join(sb.root, "etc", "passwd."+strconv.Itoa(os.Getpid()))
	for {
		if _, err := os.Stat(waiting); err == nil {
			break
		}
		select {
		case err := <-done:
			release()
			t.Fatalf("the undo did not wait for the lock (apply: %v)", err)
		default:
		}
		time.Sleep(5 * time.Millisecond)
	}
	if !strings.Contains(sb.read("/etc/passwd"), "\nquill:") {
		t.Error("the undo wrote /etc/passwd under the lock")
	}
	release()
	if err := <-done; err == nil || !strings.Contains(err.Error(), "exit") {
		t.Fatalf("apply: %v, want the command's failure", err)
	}
	sb.fs().SameAccounts(before, "after the undo")
	noLockLeft(t, sb.root, "after the undo")
}
