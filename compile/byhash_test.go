package compile

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"trail/gitrepo"
	"trail/gitrepo/gittest"
	"trail/stepfmt"
)

// countingFS is a tree FS that counts the reads and listings of "site"
// and paths under it.
type countingFS struct {
	fs.FS
	byPath atomic.Int64
}

func (c *countingFS) count(name string) {
	if name == "site" || strings.HasPrefix(name, "site/") {
		c.byPath.Add(1)
	}
}

func (c *countingFS) ReadFile(name string) ([]byte, error) {
	c.count(name)
	return fs.ReadFile(c.FS, name)
}

func (c *countingFS) ReadLink(name string) (string, error) {
	c.count(name)
	return fs.ReadLink(c.FS, name)
}

func (c *countingFS) Lstat(name string) (fs.FileInfo, error) { return fs.Lstat(c.FS, name) }

func (c *countingFS) ReadDir(name string) ([]fs.DirEntry, error) {
	c.count(name)
	return fs.ReadDir(c.FS, name)
}

func (c *countingFS) ListGitTree(h [20]byte, fn func(i, n int, name string, mode fs.FileMode, id [20]byte)) error {
	return c.FS.(gitTreeFS).ListGitTree(h, fn)
}

func (c *countingFS) ReadGitBlob(h [20]byte) ([]byte, error) {
	return c.FS.(interface {
		ReadGitBlob([20]byte) ([]byte, error)
	}).ReadGitBlob(h)
}

// A tree read from git objects lists its directories and reads its files
// and symlinks by their hashes, not their paths: resolving a path decodes
// every tree above it the FS no longer caches, which under wide
// directories nested deep was a decode of each of them for every entry.
// The list is what reading by path gives.
func TestTreeReadsBlobsByHash(t *testing.T) {
	g := gittest.New(t)
	files := map[string]string{"main.hcl": "tree \"site\" {\n  path = \"/srv/site\"\n  source = \"site\"\n}\n"}
	for _, p := range []string{"site/a", "site/d/b", "site/d/e/c", "site/x/y/z/w"} {
		files[p] = "content of " + p + "\n"
	}
	g.Write(files)
	if err := os.Symlink("d/b", filepath.Join(g.Dir, "site/link")); err != nil {
		t.Fatal(err)
	}
	commit := g.Commit("tree")
	repo, err := gitrepo.Open(g.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	tree, err := repo.Tree(commit)
	if err != nil {
		t.Fatal(err)
	}
	want, diags := Compile(tree, testFacts(), Options{Commit: commit})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	for _, lazy := range []bool{false, true} {
		cfs := &countingFS{FS: tree}
		got, diags := Compile(cfs, testFacts(), Options{Commit: commit, LazyTree: lazy})
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		if n := cfs.byPath.Load(); n != 0 {
			t.Errorf("lazy %v: %d tree entries read by path", lazy, n)
		}
		if a, b := stepfmt.Format(want.List), stepfmt.Format(got.List); !bytes.Equal(a, b) {
			t.Errorf("lazy %v: the list differs:\n%s\nvs\n%s", lazy, b, a)
		}
	}
}
