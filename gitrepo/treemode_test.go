package gitrepo

import (
	"bytes"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"

	"trail/gitrepo/gittest"
)

// A tree entry's mode is read as git reads it (tree-walk's canon_mode),
// not as written: old or foreign tools wrote file modes such as 100664
// or 100775, directories as 40755, and git reads any mode it does not
// know as a submodule. The modes listed are those git ls-tree prints.
func TestTreeModesAsGitReadsThem(t *testing.T) {
	g := gittest.New(t)
	g.Write(map[string]string{"f": "file\n"})
	g.Commit("base")
	blob := g.Git("rev-parse", "HEAD:f")
	sub := g.Git("mktree") // the empty tree
	var tree bytes.Buffer
	for _, e := range []struct{ mode, name, id string }{
		{"100775", "a-exec", blob},
		{"100664", "b-plain", blob},
		{"100644", "c-file", blob},
		{"120777", "d-link", blob},
		{"40755", "e-dir", sub},
		{"040000", "f-dir", sub},
		{"160000", "g-gitlink", blob},
		{"0", "h-zero", blob},
	} {
		fmt.Fprintf(&tree, "%s %s\x00", e.mode, e.name)
		h := plumbing.NewHash(e.id)
		tree.Write(h[:])
	}
	id := strings.TrimSpace(string(g.GitIn(tree.Bytes(), "hash-object", "-t", "tree", "--literally", "-w", "--stdin")))
	top := g.GitIn([]byte("040000 tree "+id+"\tin\n"), "mktree")
	commit := g.Git("commit-tree", "-m", "modes", strings.TrimSpace(string(top)))

	var want []string
	for _, line := range strings.Split(g.Git("ls-tree", id), "\n") {
		mode, rest, _ := strings.Cut(line, " ")
		_, rest, _ = strings.Cut(rest, " ")
		h, name, _ := strings.Cut(rest, "\t")
		want = append(want, fmt.Sprintf("%s %v %s", name, entry{mode: mustMode(t, mode)}.fsMode(), h))
	}
	for _, pack := range []bool{false, true} {
		if pack {
			g.Git("update-ref", "refs/heads/modes", commit)
			g.Git("repack", "-adq")
		}
		r := openRepo(t, g.Dir)
		fsys, err := r.Tree(commit)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		err = fsys.(*treeFS).ListGitTree(plumbing.NewHash(id), func(i, n int, name string, mode fs.FileMode, h [20]byte) {
			got = append(got, fmt.Sprintf("%s %v %x", name, mode, h))
		})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("packed %v: lists\n%q\ngit ls-tree\n%q", pack, got, want)
		}
		es, err := fs.ReadDir(fsys, "in")
		if err != nil {
			t.Fatal(err)
		}
		for i, e := range es {
			info, _ := e.Info()
			if s := fmt.Sprintf("%s %v", e.Name(), info.Mode()); !strings.HasPrefix(want[i], s+" ") {
				t.Errorf("packed %v: ReadDir %q, git %q", pack, s, want[i])
			}
		}
	}
}

func mustMode(t *testing.T, s string) (m filemode.FileMode) {
	t.Helper()
	if _, err := fmt.Sscanf(s, "%o", &m); err != nil {
		t.Fatal(err)
	}
	return m
}
