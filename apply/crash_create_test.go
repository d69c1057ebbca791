package apply

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"trail/apply/state"
	"trail/internal/fsx"
)

// A file where nothing was, in a directory the apply made, is written at
// its name, not under a temporary one renamed over it: until its batch is
// durable, a crash can leave it half written there. A new file in a
// directory that was there before is staged as a replaced one is. The
// apply that adds both (beside a file it replaces) is killed at every
// boundary in turn; at each cut before the commit, every new file found
// in a new directory is then torn as a crash in the middle of its write
// leaves it (a prefix of its content; nothing), and one in an old
// directory must be whole or absent. Recovery must leave exactly A (no
// new file, torn or whole) or, when the record says so, exactly B; B
// applied again must give B whole.
func TestCrashMidWriteOfNewFile(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary dozens of times")
	}
	for _, batch := range []int{0, 2} {
		t.Run(fmt.Sprintf("batch %d", batch), func(t *testing.T) { crashCreateCase(t, batch) })
	}
}

func crashCreateCase(t *testing.T, batch int) {
	t.Parallel()
	sb := newSandbox(t)
	sb.apply("DIR /srv/app\nFILE /srv/app/kept {kept, replaced by B}\n", "A")
	long := strings.Repeat("a part of the new file; ", 400)
	news := map[string]string{
		"/srv/app/new1":     "first new file",
		"/srv/app/sub/new2": long,
		"/srv/app/sub/new3": "third",
		"/srv/top":          long,
	}
	b := "DIR /srv/app\nFILE /srv/app/kept {B's content}\nDIR /srv/app/sub\n"
	for _, p := range []string{"/srv/app/new1", "/srv/app/sub/new2", "/srv/app/sub/new3", "/srv/top"} {
		b += "FILE " + p + " {" + news[p] + "} mode=0640\n"
	}
	h := &crashHarness{t: t, root: sb.root, state: sb.opts.StateDir, good: writeList(t, sb, b), goodList: sb.list(b),
		snap: snapshot,
		env:  []string{fmt.Sprintf("TRAIL_TEST_BATCH=%d", batch)}}
	h.list = h.good
	sb.e.Close()
	old := h.snapshot(sb.root)
	root, st := h.fresh(0)
	h.run(root, st, h.good, 0)
	want := h.snapshot(root)
	for p, c := range news {
		if got, err := os.ReadFile(filepath.Join(root, p)); err != nil || string(got) != c {
			t.Fatalf("B without a cut: %s holds %d bytes, %v; want %d", p, len(got), err, len(c))
		}
	}
	points, torn := 0, 0
	for n := 1; ; n++ {
		root, st := h.fresh(n)
		killed := h.run(root, st, h.list, n)
		where := fmt.Sprintf("crash point %d", n)
		if gen, err := state.ReadAppliedGeneration(filepath.Join(st, state.FileApplied)); err != nil {
			t.Fatal(err)
		} else if gen == 1 {
			torn += tearNew(t, root, news, n%2 == 0)
		}
		e, err := Open(Options{Root: root, StateDir: st})
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
		_, err = e.Apply(context.Background(), h.goodList, Meta{Commit: "B"})
		e.Close()
		if err != nil {
			t.Fatalf("%s: B applied again after recovery: %v", where, err)
		}
		if got := h.snapshot(root); got != want {
			t.Fatalf("%s: B applied again after recovery is not B:\n%s", where, diffLines(got, want))
		}
		if !killed {
			break
		}
		points++
	}
	if points < 8 || torn == 0 {
		t.Fatalf("%d crash points, %d new files torn: the test is void", points, torn)
	}
	t.Logf("%d crash points, %d new files torn, each recovered to A or B", points, torn)
}

// tearNew cuts each new file of news found in root in a directory B
// makes (under /srv/app/sub) as a crash in the middle of its write leaves
// it, to nothing when empty is set, else to the first half of what it
// holds, and says how many it cut. None of those has a temporary name
// beside it: such a file is written at its name. A new file in a
// directory A has is whole at its name, or not there.
func tearNew(t *testing.T, root string, news map[string]string, empty bool) int {
	t.Helper()
	n := 0
	for p, want := range news {
		host := filepath.Join(root, p)
		data, err := os.ReadFile(host)
		if !strings.HasPrefix(p, "/srv/app/sub/") {
			if err == nil && string(data) != want {
				t.Fatalf("%s, in a directory that was there, is seen at its name with %d of its %d bytes", p, len(data), len(want))
			}
			continue
		}
		if _, err := os.Lstat(filepath.Join(filepath.Dir(host), fsx.TempName(filepath.Base(host)))); err == nil {
			t.Fatalf("%s was written under a temporary name", p)
		}
		if err != nil {
			continue
		}
		size := int64(len(data) / 2)
		if empty {
			size = 0
		}
		if err := os.Truncate(host, size); err != nil {
			t.Fatal(err)
		}
		n++
	}
	return n
}
