package gitrepo

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"trail/gitrepo/gittest"
)

// FuzzTreePath resolves arbitrary names in a tree with nested directories,
// in-tree and escaping symlinks and a loop. Every operation must either
// succeed consistently or fail with an *fs.PathError naming the path; an
// invalid path must always fail. The work tree, read with DirFS, must
// give the same answers as the commit.
func FuzzTreePath(f *testing.F) {
	g := gittest.New(f)
	g.Write(map[string]string{"a/b/c.txt": "c", "a/d": "d", "top": "t"})
	for link, to := range map[string]string{"a/up": "..", "a/lc": "b/c.txt", "esc": "../x", "l1": "l2", "l2": "l1", "abs": "/etc"} {
		if err := os.Symlink(to, filepath.Join(g.Dir, link)); err != nil {
			f.Fatal(err)
		}
	}
	rev := g.Commit("fuzz")
	r, err := Open(g.Dir)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { r.Close() })
	fsys, err := r.Tree(rev)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{".", "a", "a/b/c.txt", "a/up/top", "a/up/a/lc", "esc", "l1", "abs/passwd", "a//b", "../a", "a/d/x"} {
		f.Add(s)
	}
	dir := DirFS(g.Dir)
	f.Fuzz(func(t *testing.T, name string) {
		if name != ".git" && !strings.HasPrefix(name, ".git/") {
			if a, b := describeFS(fsys, name), describeFS(dir, name); a != b {
				t.Fatalf("%q: the commit reads\n%s\nthe directory reads\n%s", name, a, b)
			}
		}
		check := func(op string, err error) {
			if err == nil {
				if !fs.ValidPath(name) {
					t.Fatalf("%s(%q) succeeded on an invalid path", op, name)
				}
				return
			}
			var pe *fs.PathError
			if !errors.As(err, &pe) || pe.Path != name {
				t.Fatalf("%s(%q) = %v, want a PathError for the name", op, name, err)
			}
		}
		data, err := fs.ReadFile(fsys, name)
		check("ReadFile", err)
		info, serr := fs.Stat(fsys, name)
		check("Stat", serr)
		if err == nil && (serr != nil || info.Size() != int64(len(data))) {
			t.Fatalf("ReadFile(%q) read %d bytes but Stat = %v, %v", name, len(data), info, serr)
		}
		_, err = fs.Lstat(fsys, name)
		check("Lstat", err)
		_, err = fs.ReadLink(fsys, name)
		check("ReadLink", err)
		_, err = fs.ReadDir(fsys, name)
		check("ReadDir", err)
		if fl, err := fsys.Open(name); err == nil {
			fl.Close()
		} else {
			check("Open", err)
		}
	})
}
