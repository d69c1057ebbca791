package apply

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"trail/stepfmt"
)

// The apply from generation A to B adds, modifies and removes GROUP, USER
// and CMD steps, and is killed with SIGKILL at every boundary in turn.
// After recovery the root must be exactly A or exactly B (the one the
// applied record names), the markers the commands make must say the same,
// and applying B again must give exactly the B of an apply never cut.
//
// The shadow tools leave files beside what they change: their backups
// (/etc/passwd-, group-, shadow-, gshadow-) and their lock file
// (/etc/.pwd.lock). Whether these exist, and what the backups hold,
// depends on which tool ran last, not on the generation: they are left
// out of the comparison (kindsSnapshot). Everything else under the root,
// the four account files included, is compared byte for byte.
func TestCrashToolKindsAtEveryBoundary(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary dozens of times")
	}
	for _, tc := range []struct {
		name    string
		failing bool
	}{
		{"apply", false},
		{"failing apply undone", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			crashKindsCase(t, tc.failing)
		})
	}
}

// A: two groups, two users, a command. B removes a group, a user and the
// command; modifies a group and a user trail created (members, gid,
// supplementary groups, shell); adds a user and a command. The removed
// command has no guard (its undo and its run again must be safe to
// repeat); the added one has creates. B also makes absent a user and a
// group that were there before trail (zed, staff).
const crashKindsA = anchors + `GROUP web gid=1700 members=alice
GROUP old gid=1710 members=bob
USER carol uid=1500 groups=web,old shell=/bin/sh
USER dan uid=1510 system=true
CMD gone run="touch srv/gone-mark" undo="rm -f srv/gone-mark" timeout=5s
`

const crashKindsB = anchors + `GROUP web gid=1701 members=alice,bob
USER carol uid=1500 groups=web shell=/bin/bash comment=Carol
USER erin uid=1520 system=true groups=web
CMD mark run="touch srv/marker" undo="rm -f srv/marker" creates=/srv/marker timeout=5s
USER zed absent=true
GROUP staff absent=true
`

// crashKindsFail makes B fail after every change is made, so that it is
// undone; the crash points then include the undo itself.
const crashKindsFail = `CHECK never run="exit 1" timeout=5s
`

func crashKindsCase(t *testing.T, failing bool) {
	sb := acctSandbox(t, true)
	for f, line := range map[string]string{"/etc/passwd": "zed:x:1600:1600:Zed:/home/zed:/bin/sh\n",
		"/etc/shadow": "zed:$6$salt$zed:19100:1:90:14:30::\n", "/etc/group": "zed:x:1600:\n", "/etc/gshadow": "zed:!::\n"} {
		sb.write(f, sb.read(f)+line, 0o644)
	}
	sb.apply(crashKindsA, "A")
	sb.e.Close()
	old := kindsSnapshot(t, sb.root)
	if !strings.Contains(old, "srv/gone-mark") || strings.Contains(old, "srv/marker") {
		t.Fatalf("after A the markers are wrong:\n%s", old)
	}
	h := &crashHarness{t: t, root: sb.root, state: sb.opts.StateDir,
		good: writeList(t, sb, crashKindsB), goodList: sb.list(crashKindsB)}
	h.list = h.good
	if failing {
		h.list = writeList(t, sb, crashKindsB+crashKindsFail)
	}

	// The reference: B applied without a crash. (For the failing list,
	// the last round below is the apply that is not cut: it must leave A.)
	root, state := h.fresh(0)
	h.run(root, state, h.good, 0)
	want := kindsSnapshot(t, root)
	if want == old {
		t.Fatal("B changed nothing: the test is void")
	}
	if !strings.Contains(want, "srv/marker") || strings.Contains(want, "srv/gone-mark") {
		t.Fatalf("after B the markers are wrong:\n%s", want)
	}
	points := h.everyPoint(old, want)
	if points < 20 {
		t.Fatalf("only %d crash points: the hook is not wired", points)
	}
	t.Logf("%d crash points, each recovered to A or B and applied again to B", points)
}

// everyPoint cuts the apply of h.list at every crash point in turn, from
// old (the root as it is prepared, record A); after recovery the root
// must be old or want (the root of B applied without a cut), as the
// record says, and B applied again must give want. h.check, when set,
// runs after the recovery and again after B is applied again. It returns
// the number of crash points.
func (h *crashHarness) everyPoint(old, want string) int {
	t := h.t
	t.Helper()
	points := 0
	for n := 1; ; n++ {
		root, state := h.fresh(n)
		killed := h.run(root, state, h.list, n)
		where := fmt.Sprintf("crash point %d", n)
		opts := h.opts
		opts.Root, opts.StateDir = root, state
		e, err := Open(opts)
		if err != nil {
			t.Fatalf("%s: recovery: %v", where, err)
		}
		got := h.snapshot(root)
		cur, err := e.Current()
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case cur.Commit == "B" && got != want:
			t.Fatalf("%s: the record says B, the root is not B:\n%s", where, diffLines(got, want))
		case cur.Commit == "A" && got != old:
			t.Fatalf("%s: the record says A, the root is not A:\n%s", where, diffLines(got, old))
		case cur.Commit != "A" && cur.Commit != "B":
			t.Fatalf("%s: current commit %q", where, cur.Commit)
		}
		checkState(t, e, where)
		if h.check != nil {
			h.check(where, root, state)
		}
		// B applied again, as the next run of trail would, gives B.
		_, err = e.Apply(context.Background(), h.goodList, Meta{Commit: "B"})
		e.Close()
		if err != nil {
			t.Fatalf("%s: B applied again after recovery: %v", where, err)
		}
		if got := h.snapshot(root); got != want {
			t.Fatalf("%s: B applied again after recovery is not B:\n%s", where, diffLines(got, want))
		}
		if h.check != nil {
			h.check(where+", B applied again", root, state)
		}
		if !killed {
			break
		}
		points++
	}
	return points
}

// crashHarness copies a prepared root and state directory and runs the
// test binary's child apply on the copies.
type crashHarness struct {
	t           *testing.T
	root, state string
	list, good  string // the list the crashing apply applies; B
	goodList    *stepfmt.List
	// snap reads the root as everyPoint compares it (kindsSnapshot
	// when nil).
	snap func(t testing.TB, root string) string
	// env is added to the child's environment (TRAIL_TEST_AGEKEY, say).
	env []string
	// opts are the options everyPoint recovers with, Root and StateDir
	// set to the copy's (the Decrypt and Seal of secrets, say).
	opts Options
	// check, when set, looks at a copy's root and state directory at
	// every crash point (a scan of the state for a secret, say); where
	// names the point.
	check func(where, root, state string)
}

func (h *crashHarness) snapshot(root string) string {
	if h.snap != nil {
		return h.snap(h.t, root)
	}
	return kindsSnapshot(h.t, root)
}

// writeList writes steps to a file the child reads.
func writeList(t *testing.T, sb *sandbox, text string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "list.steps")
	if err := os.WriteFile(file, stepsText(sb.list(text)), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// fresh returns a copy of the prepared root and state directory.
func (h *crashHarness) fresh(n int) (root, state string) {
	h.t.Helper()
	dst := filepath.Join(h.t.TempDir(), strconv.Itoa(n))
	root, state = filepath.Join(dst, "root"), filepath.Join(dst, "state")
	if err := os.MkdirAll(dst, 0o755); err != nil {
		h.t.Fatal(err)
	}
	for from, to := range map[string]string{h.root: root, h.state: state} {
		if out, err := exec.Command("cp", "-a", from, to).CombinedOutput(); err != nil {
			h.t.Fatalf("cp: %v %s", err, out)
		}
	}
	return root, state
}

// run applies list in a child process that kills itself at crash point
// at (0: never), and reports whether it was killed. An apply that fails
// (exit 3) is not a crash.
func (h *crashHarness) run(root, state, list string, at int) (killed bool) {
	h.t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "TRAIL_TEST_CHILD=1", "TRAIL_TEST_ROOT="+root, "TRAIL_TEST_STATE="+state,
		"TRAIL_TEST_LIST="+list, "TRAIL_TEST_COMMIT=B", "TRAIL_TEST_CRASH_AT="+strconv.Itoa(at))
	cmd.Env = append(cmd.Env, h.env...)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws := ee.Sys().(syscall.WaitStatus); ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			return true
		}
		if list != h.good && ee.ExitCode() == 3 {
			return false
		}
	}
	if err != nil {
		h.t.Fatalf("child applying %s at crash point %d: %v\n%s", filepath.Base(list), at, err, out)
	}
	return false
}

// shadowLeftovers are what the shadow tools leave in /etc beside the
// account files, whatever they change.
var shadowLeftovers = map[string]bool{
	"etc/passwd-": true, "etc/group-": true, "etc/shadow-": true, "etc/gshadow-": true, "etc/.pwd.lock": true,
}

// kindsSnapshot is snapshot without the shadow tools' leftovers, and with
// the four account files' contents in full, so that a difference shows
// which entry differs.
func kindsSnapshot(t *testing.T, root string) string {
	t.Helper()
	var keep []string
	for _, l := range strings.Split(snapshot(t, root), "\n") {
		name, _, _ := strings.Cut(l, " ")
		if !shadowLeftovers[name] {
			keep = append(keep, l)
		}
	}
	for _, f := range accountFiles {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		keep = append(keep, "== "+f, strings.TrimRight(string(b), "\n"))
	}
	return strings.Join(keep, "\n")
}

// diffLines lists the lines only one of got and want has.
func diffLines(got, want string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	g, w := in(got), in(want)
	var b strings.Builder
	for _, l := range strings.Split(got, "\n") {
		if !w[l] {
			b.WriteString("+ " + l + "\n")
		}
	}
	for _, l := range strings.Split(want, "\n") {
		if !g[l] {
			b.WriteString("- " + l + "\n")
		}
	}
	return b.String()
}

// A failed apply that removed a command puts its effect back: run runs
// again, unless a guard shows the effect already there.
func TestCommandRemovalUndoneRunsAgain(t *testing.T) {
	cases := map[string]struct {
		step     string
		wantRuns string // what ran, in order, over both applies
	}{
		"no guard": {`CMD c run="echo run >> log; touch mark" undo="echo undo >> log; rm -f mark" timeout=5s`, "run\nundo\nrun\n"},
		"creates gone, run again": {`CMD c run="echo run >> log; touch mark" undo="echo undo >> log; rm -f mark" creates=/mark timeout=5s`,
			"run\nundo\nrun\n"},
		"unless holds, skipped": {`CMD c run="echo run >> log; touch mark" undo="echo undo >> log" unless="test -e mark" timeout=5s`,
			"run\nundo\n"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			sb := newSandbox(t)
			sb.apply(anchors+tc.step, "A")
			if _, err := sb.applyErr(anchors+`CHECK never run="exit 1" timeout=5s`, "B"); err == nil {
				t.Fatal("the failing apply succeeded")
			}
			if got := sb.read("/log"); got != tc.wantRuns {
				t.Fatalf("ran %q, want %q", got, tc.wantRuns)
			}
			if !sb.exists("/mark") {
				t.Fatal("the command's effect is not back after the failed apply")
			}
			// A applied again is the applied list: nothing runs.
			sb.apply(anchors+tc.step, "A")
			if got := sb.read("/log"); got != tc.wantRuns {
				t.Fatalf("applying A again ran %q", got)
			}
		})
	}
}
