package apply

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A user and a group that were there before trail, in the middle of the
// account files, are made absent by A; B drops those steps, so its apply
// runs their reverses, and is killed at every boundary in turn. B applied
// without a cut gives the four account files byte for byte as they were
// before A (each line, and the user in its group's member and
// administrator lists, back where it stood; the group's gshadow password;
// the user's subordinate ids), and so are /etc/subuid and /etc/subgid;
// after any cut, recovery leaves A or B and B applied
// again gives that same B.
func TestCrashAbsentReverseInPlace(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary many times")
	}
	t.Parallel()
	sb := acctSandbox(t, true)
	for _, args := range [][]string{
		{"groupadd", "old2"}, {"useradd", "-M", "-c", "Zed", "zed"}, {"usermod", "-a", "-G", "staff", "zed"},
		{"useradd", "-M", "-G", "staff", "yan"},
	} {
		if out, err := exec.Command(args[0], append([]string{"--prefix", sb.root}, args[1:]...)...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v: %s", args, err, out)
		}
	}
	subs := "yan:300000:65536\nzed:500000:65536\nalice:100000:65536\n"
	sb.write("/etc/subuid", subs, 0o644)
	sb.write("/etc/subgid", subs, 0o644)
	gs := sb.read("/etc/gshadow")
	if !strings.Contains(gs, "\nold2:!::\n") {
		t.Fatalf("groupadd wrote no plain gshadow line for old2:\n%s", gs)
	}
	sb.write("/etc/gshadow", strings.Replace(gs, "\nold2:!::\n", "\nold2:$6$salt$old2:zed,alice:\n", 1), 0o640)
	sb.removeToolFiles()
	start := sb.accounts()
	start["/etc/subuid"], start["/etc/subgid"] = subs, subs
	const b = anchors + "DIR /srv/c\n"
	sb.apply(b+"USER zed absent=true\nGROUP old2 absent=true\n", "A")
	sb.e.Close()
	old := kindsSnapshot(t, sb.root)
	h := &crashHarness{t: t, root: sb.root, state: sb.opts.StateDir, good: writeList(t, sb, b), goodList: sb.list(b)}
	h.list = h.good
	root, state := h.fresh(0)
	h.run(root, state, h.good, 0)
	for f, want := range start {
		got, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Fatalf("B without a cut: %s is\n%s\nwant, as before A,\n%s", f, got, want)
		}
	}
	points := h.everyPoint(old, kindsSnapshot(t, root))
	if points < 4 {
		t.Fatalf("only %d crash points: the hook is not wired", points)
	}
	t.Logf("%d crash points, each recovered to A or B and applied again to B", points)
}
