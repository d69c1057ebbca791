package apply

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"trail/internal/lineedit"
)

// Path independence for the steps that manage part of a file a package
// ships: random lists give each of a few such files an EDIT (a random
// script), an ATTRS (random attributes), a FILE (random content) or
// nothing, in sequence; after each sequence the root equals a fresh
// apply of the last list onto the starting root, and the empty list
// gives the starting root back.
func TestPathIndependenceFileParts(t *testing.T) {
	for seed := uint64(1); seed <= 8; seed++ {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) { filePartsIndependence(t, seed) })
	}
}

var partsFiles = []string{"/etc/pkg/a.conf", "/etc/pkg/b.conf", "/etc/pkg/c.conf", "/etc/pkg/key"}

const partsBase = "# shipped\n#Opt1 yes\nOpt2 no\nOpt3 maybe\n# end\n"

var partsEdits = []lineedit.Edit{
	{Line: "Opt1 no", Regexp: "^#?Opt1"},
	{Line: "Opt2 yes", Regexp: "^#?Opt2"},
	{Regexp: "^Opt3", Absent: true},
	{Line: "Opt4 on", After: "^#?Opt1"},
	{Line: "Opt5 on", Before: "^# end"},
	{Line: "Opt6 on"},
	{Regexp: "^#", Absent: true},
}

func filePartsIndependence(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0xed17))
	sb := newSandbox(t)
	sb.opts.AllowMassRemoval = true
	sb.open()
	for i, p := range partsFiles {
		sb.write(p, partsBase, os.FileMode(0o640+i%2*4))
	}
	start := filepath.Join(t.TempDir(), "start")
	if out, err := exec.Command("cp", "-a", sb.root, start).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	var scripts [][]byte
	list := func() string {
		var b strings.Builder
		for _, p := range partsFiles {
			switch rng.IntN(4) {
			case 1:
				var edits []lineedit.Edit
				for _, i := range rng.Perm(len(partsEdits))[:1+rng.IntN(len(partsEdits))] {
					edits = append(edits, partsEdits[i])
				}
				k, err := sb.e.Store().Put(lineedit.Format(edits))
				if err != nil {
					t.Fatal(err)
				}
				scripts = append(scripts, lineedit.Format(edits))
				fmt.Fprintf(&b, "EDIT %s %s\n", p, k)
			case 2:
				attrs := []string{"mode=0600", "owner=alice", "group=staff", "mode=0644 group=bob"}
				fmt.Fprintf(&b, "ATTRS %s %s\n", p, attrs[rng.IntN(len(attrs))])
			case 3:
				fmt.Fprintf(&b, "FILE %s {content %d} mode=0644\n", p, rng.IntN(3))
			}
		}
		return b.String()
	}
	var last string
	for i := 0; i < 6; i++ {
		last = list()
		if _, err := sb.e.Apply(context.Background(), sb.list(last), Meta{Commit: fmt.Sprint("c", i)}); err != nil {
			t.Fatalf("seed %d, list %d: %v\n%s", seed, i, err, last)
		}
	}
	got := snapshot(t, sb.root)
	fresh := &sandbox{t: t, root: start, state: t.TempDir()}
	fresh.opts = Options{Root: start, StateDir: filepath.Join(fresh.state, "trail"), AllowMassRemoval: true}
	fresh.open()
	for _, sc := range scripts {
		if _, err := fresh.e.Store().Put(sc); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := fresh.e.Apply(context.Background(), fresh.list(last), Meta{Commit: "fresh"}); err != nil {
		t.Fatalf("seed %d, fresh apply: %v", seed, err)
	}
	if want := snapshot(t, start); got != want {
		t.Fatalf("seed %d: the root after 6 lists differs from a fresh apply of the last:\n%s\nlast list:\n%s", seed, lineDiff(want, got), last)
	}
	sb.apply("", "empty")
	fresh.apply("", "empty")
	if a, b := snapshot(t, sb.root), snapshot(t, start); a != b {
		t.Fatalf("seed %d: after removing everything the roots differ:\n%s", seed, lineDiff(b, a))
	}
}
