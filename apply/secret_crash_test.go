package apply

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// An apply that changes a secret (whose pre-image is sealed) and a plain
// file is killed at every boundary; recovery, with the host's key,
// leaves the root wholly at A (the secret as it was, byte for byte) or,
// when the record says so, at B, and no blob holds a secret in the clear.
func TestSecretCrashAtEveryBoundary(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary at every crash point")
	}
	ss := newSecretSandbox(t)
	ss.write("/etc/app/db.pass", "before trail\n", 0o640)
	ss.apply("DIR /srv/a\nDIR /etc/app\nFILE /etc/app/db.pass "+ss.secret("password-A\n")+" secret=age mode=0600\nFILE /srv/a/f {a}\n", "A")
	listFile := filepath.Join(t.TempDir(), "b.steps")
	if err := os.WriteFile(listFile, stepsText(ss.list("DIR /srv/a\nDIR /etc/app\nFILE /etc/app/db.pass "+ss.secret("password-B\n")+" secret=age mode=0600\nFILE /srv/a/f {b}\nFILE /srv/a/g {g}\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	ss.e.Close()
	old := snapshot(t, ss.root)
	fresh := func(n int) (root, st string) {
		dst := filepath.Join(t.TempDir(), strconv.Itoa(n))
		root, st = filepath.Join(dst, "root"), filepath.Join(dst, "state")
		os.MkdirAll(dst, 0o755)
		for from, to := range map[string]string{ss.root: root, ss.opts.StateDir: st} {
			if out, err := exec.Command("cp", "-a", from, to).CombinedOutput(); err != nil {
				t.Fatalf("cp: %v %s", err, out)
			}
		}
		return root, st
	}
	run := func(root, st string, at int) (killed bool) {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "TRAIL_TEST_CHILD=1", "TRAIL_TEST_ROOT="+root, "TRAIL_TEST_STATE="+st,
			"TRAIL_TEST_LIST="+listFile, "TRAIL_TEST_COMMIT=B", "TRAIL_TEST_CRASH_AT="+strconv.Itoa(at),
			"TRAIL_TEST_AGEKEY="+ss.id.String())
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			if ws := ee.Sys().(syscall.WaitStatus); ws.Signaled() && ws.Signal() == syscall.SIGKILL {
				return true
			}
		}
		if err != nil {
			t.Fatalf("child at crash point %d: %v\n%s", at, err, out)
		}
		return false
	}
	root, st := fresh(0)
	run(root, st, 0)
	want := snapshot(t, root)
	if want == old {
		t.Fatal("B changed nothing: the test is void")
	}
	decrypt, seal := ageFuncs(ss.id)
	points := 0
	for n := 1; ; n++ {
		root, st := fresh(n)
		killed := run(root, st, n)
		e, err := Open(Options{Root: root, StateDir: st, Decrypt: decrypt, Seal: seal})
		if err != nil {
			t.Fatalf("crash point %d: recovery: %v", n, err)
		}
		got := snapshot(t, root)
		cur, err := e.Current()
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case cur.Commit == "B" && got != want:
			t.Fatalf("crash point %d: record says B, root is not B:\n%s\nwant:\n%s", n, got, want)
		case cur.Commit == "A" && got != old:
			t.Fatalf("crash point %d: record says A, root is not A:\n%s\nwant:\n%s", n, got, old)
		}
		checkState(t, e, "crash point "+strconv.Itoa(n))
		orig := ss.opts.StateDir
		ss.opts.StateDir = st
		for _, plain := range []string{"password-A\n", "password-B\n", "before trail\n"} {
			if tr := ss.stateTraces(plain); len(tr) > 0 {
				t.Fatalf("crash point %d: %q is in the state: %v", n, plain, tr)
			}
		}
		ss.opts.StateDir = orig
		e.Close()
		if !killed {
			break
		}
		points++
	}
	if points < 5 {
		t.Fatalf("only %d crash points: the hook is not wired", points)
	}
	t.Logf("%d crash points, each recovered to A or B", points)
}
