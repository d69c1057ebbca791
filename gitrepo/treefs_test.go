package gitrepo

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"

	"trail/gitrepo/gittest"
)

// sample builds a repository with regular, executable, nested, symlinked
// and unusual names, committed twice.
func sample(t *testing.T) (*gittest.Repo, string, string) {
	g := gittest.New(t)
	g.Write(map[string]string{
		"site.hcl":             "file \"/etc/motd\" {}\n",
		"files/motd":           "hello\n",
		"files/a.b":            "dot name sorts before the directory a\n",
		"files/a/inner.txt":    "inner\n",
		"www/index.html":       "<h1>hi</h1>\n",
		"www/css/site.css":     "body{}\n",
		"www/deep/er/x/y.txt":  "deep\n",
		"bin/run.sh":           "#!/bin/sh\necho run\n",
		"with space/name.txt":  "spaces\n",
		"unicode/caf\u00e9.md": "accent\n",
		"empty":                "",
	})
	if err := os.Chmod(filepath.Join(g.Dir, "bin/run.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	for link, to := range map[string]string{
		"www/latest": "index.html", "www/up": "../files/motd", "links/dir": "../www/css",
	} {
		p := filepath.Join(g.Dir, link)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(to, p); err != nil {
			t.Fatal(err)
		}
	}
	first := g.Commit("first")
	g.Write(map[string]string{"site.hcl": "# changed\n", "new.txt": "new\n"})
	g.Remove("www/css")
	second := g.Commit("second")
	return g, first, second
}

func TestTreeFSConformance(t *testing.T) {
	g, first, _ := sample(t)
	r, err := Open(g.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	fsys, err := r.Tree(first)
	if err != nil {
		t.Fatal(err)
	}
	if err := fstest.TestFS(fsys, "site.hcl", "files/motd", "files/a/inner.txt", "bin/run.sh",
		"www/css/site.css", "www/latest", "with space/name.txt", "empty"); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"links/dir/site.css": "body{}\n", "www/up": "hello\n", "www/latest": "<h1>hi</h1>\n"} {
		if data, err := fs.ReadFile(fsys, name); err != nil || string(data) != want {
			t.Errorf("ReadFile(%q) through a symlink = %q, %v; want %q", name, data, err, want)
		}
	}
	if info, err := fs.Lstat(fsys, "links/dir"); err != nil || info.Mode().Type() != fs.ModeSymlink {
		t.Errorf("Lstat(links/dir) = %v, %v; want a symlink", info, err)
	}
	if info, err := fs.Stat(fsys, "links/dir"); err != nil || !info.IsDir() {
		t.Errorf("Stat(links/dir) = %v, %v; want the directory it points to", info, err)
	}
}

// TestTreeMatchesCheckout compares the tree FS with a real checkout of the
// same commit made by git: same names, types, exec bits, contents and
// symlink targets.
func TestTreeMatchesCheckout(t *testing.T) {
	g, first, second := sample(t)
	for name, rev := range map[string]string{"first": first, "second": second} {
		t.Run(name, func(t *testing.T) {
			co := filepath.Join(t.TempDir(), "co")
			g.Git("worktree", "add", "-q", "--detach", co, rev)
			r, err := Open(g.Dir)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			fsys, err := r.Tree(rev)
			if err != nil {
				t.Fatal(err)
			}
			want := snapshot(t, os.DirFS(co))
			got := snapshot(t, fsys)
			if len(got) != len(want) {
				t.Errorf("tree has %d entries, checkout %d", len(got), len(want))
			}
			for p, w := range want {
				if got[p] != w {
					t.Errorf("%s: tree %q, checkout %q", p, got[p], w)
				}
			}
			for p := range got {
				if _, ok := want[p]; !ok {
					t.Errorf("%s: in tree, not in checkout", p)
				}
			}
		})
	}
}

// snapshot describes every entry of fsys as "type exec content".
func snapshot(t *testing.T, fsys fs.FS) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == ".git" {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if p == "." {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			to, err := fs.ReadLink(fsys, p)
			if err != nil {
				return err
			}
			out[p] = "link " + to
		case d.IsDir():
			out[p] = "dir"
		default:
			data, err := fs.ReadFile(fsys, p)
			if err != nil {
				return err
			}
			if int64(len(data)) != info.Size() {
				t.Errorf("%s: Size() %d, content %d bytes", p, info.Size(), len(data))
			}
			out[p] = "file " + map[bool]string{true: "x", false: "-"}[info.Mode()&0o100 != 0] + " " + string(data)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestOldCommitWithoutCheckout reads an old commit while the work tree is
// at a newer one and dirty, and checks that nothing in the work tree or
// the index changed.
func TestOldCommitWithoutCheckout(t *testing.T) {
	g, first, _ := sample(t)
	g.Write(map[string]string{"site.hcl": "dirty, uncommitted\n"})
	statusBefore := g.Git("status", "--porcelain")
	indexBefore, err := os.ReadFile(filepath.Join(g.Dir, ".git/index"))
	if err != nil {
		t.Fatal(err)
	}

	r, err := Open(g.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	fsys, err := r.Tree(first)
	if err != nil {
		t.Fatal(err)
	}
	if data, err := fs.ReadFile(fsys, "site.hcl"); err != nil || string(data) != "file \"/etc/motd\" {}\n" {
		t.Errorf("site.hcl at first = %q, %v", data, err)
	}
	if data, err := fs.ReadFile(fsys, "www/css/site.css"); err != nil || string(data) != "body{}\n" {
		t.Errorf("www/css/site.css at first = %q, %v", data, err)
	}
	if _, err := fs.Stat(fsys, "new.txt"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("new.txt at first: %v, want not exist", err)
	}

	if s := g.Git("status", "--porcelain"); s != statusBefore {
		t.Errorf("status changed:\n%s\nwas:\n%s", s, statusBefore)
	}
	indexAfter, err := os.ReadFile(filepath.Join(g.Dir, ".git/index"))
	if err != nil || !bytes.Equal(indexBefore, indexAfter) {
		t.Errorf("index changed (%v)", err)
	}
	if data, _ := os.ReadFile(filepath.Join(g.Dir, "site.hcl")); string(data) != "dirty, uncommitted\n" {
		t.Errorf("work tree file changed: %q", data)
	}
}

func TestTreeFSPacked(t *testing.T) {
	g, first, second := sample(t)
	g.Git("gc", "-q", "--aggressive", "--prune=now")
	r, err := Open(g.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, rev := range []string{first, second} {
		fsys, err := r.Tree(rev)
		if err != nil {
			t.Fatal(err)
		}
		if data, err := fs.ReadFile(fsys, "files/motd"); err != nil || string(data) != "hello\n" {
			t.Errorf("%s: files/motd = %q, %v", rev, data, err)
		}
	}
}

func TestTreeFSErrors(t *testing.T) {
	g := gittest.New(t)
	g.Write(map[string]string{"a/file": "x"})
	for link, to := range map[string]string{
		"escape": "../../etc/passwd", "abs": "/etc/passwd", "loop1": "loop2", "loop2": "loop1",
	} {
		if err := os.Symlink(to, filepath.Join(g.Dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	sub := gittest.New(t)
	sub.Write(map[string]string{"s": "sub"})
	sub.Commit("sub")
	g.Git("-c", "protocol.file.allow=always", "submodule", "add", "-q", sub.Dir, "mod")
	rev := g.Commit("errors")
	r, err := Open(g.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	fsys, err := r.Tree(rev)
	if err != nil {
		t.Fatal(err)
	}

	tests := map[string]struct {
		name string
		is   error
		msg  string
	}{
		"missing":         {name: "nope", is: fs.ErrNotExist},
		"missing nested":  {name: "a/nope/x", is: fs.ErrNotExist},
		"under a file":    {name: "a/file/x", is: syscall.ENOTDIR},
		"invalid path":    {name: "../a", is: fs.ErrInvalid},
		"leading slash":   {name: "/a/file", is: fs.ErrInvalid},
		"escaping link":   {name: "escape", msg: "outside the repository"},
		"absolute link":   {name: "abs", msg: "outside the repository"},
		"link loop":       {name: "loop1", is: syscall.ELOOP},
		"submodule":       {name: "mod", msg: "submodule"},
		"directory read":  {name: "a", is: syscall.EISDIR},
		"empty component": {name: "a//file", is: fs.ErrInvalid},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := fs.ReadFile(fsys, tc.name)
			if err == nil {
				t.Fatalf("ReadFile(%q) succeeded", tc.name)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("ReadFile(%q) = %v, want %v", tc.name, err, tc.is)
			}
			if tc.msg != "" && !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("ReadFile(%q) = %v, want it to mention %q", tc.name, err, tc.msg)
			}
			if !strings.Contains(err.Error(), tc.name) {
				t.Errorf("error %q does not name the path %q", err, tc.name)
			}
		})
	}

	info, err := fs.Lstat(fsys, "mod")
	if err != nil || info.Mode().Type() != fs.ModeIrregular {
		t.Errorf("Lstat(mod) = %v, %v; want an irregular entry", info, err)
	}
	if to, err := fs.ReadLink(fsys, "escape"); err != nil || to != "../../etc/passwd" {
		t.Errorf("ReadLink(escape) = %q, %v", to, err)
	}
	if _, err := fs.ReadLink(fsys, "a/file"); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("ReadLink of a regular file = %v, want ErrInvalid", err)
	}
}

// TestTreeFSConcurrent reads every file from many goroutines at once; run
// with -race it checks the FS is safe for concurrent use.
func TestTreeFSConcurrent(t *testing.T) {
	g, first, _ := sample(t)
	g.Git("gc", "-q")
	r, err := Open(g.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	fsys, err := r.Tree(first)
	if err != nil {
		t.Fatal(err)
	}
	want := snapshot(t, fsys)
	errs := make(chan error, 8)
	for w := 0; w < 8; w++ {
		go func() {
			for p, s := range want {
				if !strings.HasPrefix(s, "file ") {
					continue
				}
				data, err := fs.ReadFile(fsys, p)
				if err != nil || !strings.HasSuffix(s, " "+string(data)) {
					errs <- fmt.Errorf("%s: %q, %v", p, data, err)
					return
				}
				if _, err := fs.ReadDir(fsys, path.Dir(p)); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for w := 0; w < 8; w++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
