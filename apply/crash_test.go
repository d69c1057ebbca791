package apply

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"trail/apply/kind"
	"trail/apply/state"
)

// The apply from generation A to B (which, among the rest, makes absent a
// file trail wrote, and a file, a symlink, a directory with its file and a
// whole tree (recursive) that were there before trail) is killed with SIGKILL at every
// boundary in turn (after the journal begins, after each batch's intents,
// after each step, after each flush and done record, after the generation
// and the commit, and inside the undo of a failing apply). After recovery
// the root must be exactly A or exactly B — B only when the applied record
// says so — and the state directory consistent.
func TestCrashAtEveryBoundary(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary dozens of times")
	}
	for _, tc := range []struct {
		name    string
		batch   int
		failing bool
	}{
		{"one batch", 0, false},
		{"batches of 3", 3, false},
		{"failing apply undone, batches of 2", 2, true},
	} {
		t.Run(tc.name, func(t *testing.T) { crashCase(t, tc.batch, tc.failing) })
	}
}

const crashA = `DIR /srv/app
FILE /srv/app/a {a1}
FILE /etc/hostname {h1}
LINK /srv/app/l a
FILE /srv/app/gone {gone}
DIR /srv/app/d
FILE /srv/app/d/in {in}
FILE /etc/motd {m1} owner=alice
`

const crashB = `DIR /srv/app mode=0700
FILE /srv/app/a {a2}
FILE /etc/hostname {h2} mode=0600
FILE /srv/app/b {b}
LINK /srv/app/l b
DIR /srv/app/new owner=bob
FILE /srv/app/new/f {f} mode=0640
LINK /etc/resolv.conf ../run/resolv.conf
FILE /srv/app/d {d is a file now}
FILE /srv/old/keep {replaced} owner=alice
FILE /srv/app/gone absent=true
FILE /etc/issue absent=true
LINK /etc/oldlink absent=true
FILE /srv/olddir/f absent=true
DIR /srv/olddir absent=true
DIR /srv/oldtree absent=true recursive=true
`

func crashCase(t *testing.T, batch int, failing bool) {
	sb := newSandbox(t)
	sb.write("/etc/hostname", "orig", 0o644)
	sb.write("/etc/motd", "debian", 0o600)
	os.Chown(sb.host("/etc/motd"), 1001, 1001)
	sb.write("/srv/old/keep", "admin's", 0o640)
	os.Symlink("/run/systemd/resolve/stub-resolv.conf", sb.host("/etc/resolv.conf"))
	sb.write("/etc/issue", "Debian GNU/Linux\n", 0o644)
	os.Symlink("/usr/lib/old", sb.host("/etc/oldlink"))
	sb.write("/srv/olddir/f", "old data", 0o600)
	os.Chmod(sb.host("/srv/olddir"), 0o750)
	sb.write("/srv/oldtree/a/b/c", "deep", 0o640)
	sb.write("/srv/oldtree/top", "top", 0o600)
	os.Symlink("a/b/c", sb.host("/srv/oldtree/l"))
	os.Chmod(sb.host("/srv/oldtree/a"), 0o700)
	sb.apply(crashA, "A")
	b := crashB
	if failing {
		os.MkdirAll(sb.host("/srv/locked"), 0o755)
		b += "FILE /srv/locked/x {x}\n"
	}
	bl := sb.list(b)
	listFile := filepath.Join(t.TempDir(), "b.steps")
	if err := os.WriteFile(listFile, stepsText(bl), 0o644); err != nil {
		t.Fatal(err)
	}
	sb.e.Close()
	old := snapshot(t, sb.root)

	fresh := func(n int) (root, state string) {
		dst := filepath.Join(t.TempDir(), strconv.Itoa(n))
		root, state = filepath.Join(dst, "root"), filepath.Join(dst, "state")
		os.MkdirAll(dst, 0o755)
		for from, to := range map[string]string{sb.root: root, sb.opts.StateDir: state} {
			if out, err := exec.Command("cp", "-a", from, to).CombinedOutput(); err != nil {
				t.Fatalf("cp: %v %s", err, out)
			}
		}
		if failing {
			if out, err := exec.Command("chattr", "+i", filepath.Join(root, "srv/locked")).CombinedOutput(); err != nil {
				t.Skipf("chattr +i not possible here: %v %s", err, out)
			}
			t.Cleanup(func() { exec.Command("chattr", "-i", filepath.Join(root, "srv/locked")).Run() })
		}
		return root, state
	}
	run := func(root, state string, at int) (killed bool) {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "TRAIL_TEST_CHILD=1", "TRAIL_TEST_ROOT="+root, "TRAIL_TEST_STATE="+state,
			"TRAIL_TEST_LIST="+listFile, "TRAIL_TEST_COMMIT=B", "TRAIL_TEST_CRASH_AT="+strconv.Itoa(at),
			"TRAIL_TEST_BATCH="+strconv.Itoa(batch))
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			if ws := ee.Sys().(syscall.WaitStatus); ws.Signaled() && ws.Signal() == syscall.SIGKILL {
				return true
			}
			if failing && ee.ExitCode() == 3 {
				return false
			}
		}
		if err != nil {
			t.Fatalf("child at crash point %d: %v\n%s", at, err, out)
		}
		return false
	}

	// The reference: B applied without a crash.
	root, state := fresh(0)
	run(root, state, 0)
	want := snapshot(t, root)
	if failing && want != old {
		t.Fatalf("the failing apply did not leave the root at A:\n%s\nwant:\n%s", want, old)
	}
	if !failing && want == old {
		t.Fatal("B changed nothing: the test is void")
	}

	points := 0
	for n := 1; ; n++ {
		root, state := fresh(n)
		killed := run(root, state, n)
		e, err := Open(Options{Root: root, StateDir: state})
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
		case cur.Commit != "A" && cur.Commit != "B":
			t.Fatalf("crash point %d: current commit %q", n, cur.Commit)
		}
		checkState(t, e, fmt.Sprintf("crash point %d", n))
		e.Close()
		if !killed {
			break
		}
		points++
	}
	if points < 10 {
		t.Fatalf("only %d crash points: the hook is not wired", points)
	}
	t.Logf("%d crash points, each recovered to A or B", points)
}

// checkState checks the state directory after recovery: no journal, no
// half-written blob, every blob whole, every blob the record needs there.
func checkState(t *testing.T, e *Engine, where string) {
	t.Helper()
	if _, err := os.Stat(e.path(state.FileJournal)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("%s: journal left after recovery", where)
	}
	if ents, _ := os.ReadDir(filepath.Join(e.store.Dir, "tmp")); len(ents) != 0 {
		t.Fatalf("%s: half-written blobs left in the store: %v", where, ents)
	}
	if err := e.store.Verify(); err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	ap, err := state.LoadApplied(e.path(state.FileApplied))
	if err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	defer ap.Close()
	ap.Each(func(r *kind.Record) error {
		for _, k := range append(r.Origin.Blobs(), r.Wrote.WroteBlobs(r.ID.Kind)...) {
			if !e.store.Has(k) {
				t.Fatalf("%s: %s needs blob %s, missing", where, r.ID, k)
			}
		}
		return nil
	})
	gens, err := e.Generations()
	if err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	for _, g := range gens {
		if g.Result == ResultRunning {
			t.Fatalf("%s: generation %d still says running", where, g.Number)
		}
	}
	if strings.Contains(snapshot(t, e.root.Dir()), ".trail-tmp") {
		t.Fatalf("%s: temporary files left in the root", where)
	}
	rep, err := Fsck(e.StateDir())
	if err != nil || !rep.OK() {
		t.Fatalf("%s: fsck after recovery: %v %+v", where, err, rep)
	}
}
