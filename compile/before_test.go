package compile

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"trail/gitrepo"
	"trail/gitrepo/gittest"
	"trail/stepfmt"
)

// A directory whose entries changed under the same name, some keeping
// their git blob, compiles with the applied commit's trees (Options.Before)
// as a fresh compile does: a file that became a symlink to its own
// content, a symlink that became a file holding its target (a blob the
// tree before knew as a link, with no sum), an exec bit set, a file
// changed in place, a directory that became a file and a file that
// became a directory.
func TestBeforeTakesFilesOnly(t *testing.T) {
	g := gittest.New(t)
	g.Write(map[string]string{"main.hcl": "tree \"www\" {\n  path = \"/srv/www\"\n  source = \"www\"\n}\n",
		"www/a": "x", "www/b": "b\n", "www/c": "c\n", "www/d/e": "e\n", "www/f": "f\n"})
	dir := filepath.Join(g.Dir, "www")
	if err := os.Symlink("z", filepath.Join(dir, "l")); err != nil {
		t.Fatal(err)
	}
	first := g.Commit("first")
	g.Remove("www/a", "www/l", "www/d", "www/f")
	if err := os.Symlink("x", filepath.Join(dir, "a")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	g.Write(map[string]string{"www/c": "c2\n", "www/l": "z", "www/d": "e\n", "www/f/f": "f\n"})
	next := g.Commit("next")
	repo, err := gitrepo.Open(g.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	prevTree, prev := compileAt(t, repo, first)
	tree, want := compileAt(t, repo, next)
	got, diags := Compile(tree, testFacts(), Options{Commit: next, LazyTree: true, Before: treeBefore(prevTree),
		Trees: func(h string) ([]TreeEntry, bool) { es, ok := prev.Trees[h]; return es, ok }})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if a, b := stepfmt.Format(got.List), stepfmt.Format(want.List); !bytes.Equal(a, b) {
		t.Fatalf("with the trees before:\n%s\nwant\n%s", a, b)
	}
}
