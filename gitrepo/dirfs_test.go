package gitrepo

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"

	"trail/gitrepo/gittest"
)

// hostile builds a repository with symlinks out of it (absolute, up past
// the root, through a directory link), a loop, and modes git does not
// keep, next to a file outside it that must never be read.
func hostile(t *testing.T) (*gittest.Repo, string) {
	g := gittest.New(t)
	outside := filepath.Join(filepath.Dir(g.Dir), "outside.txt")
	if err := os.WriteFile(outside, []byte("SECRET\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	g.Write(map[string]string{
		"site.hcl":       "x = 1\n",
		"files/motd":     "hello\n",
		"files/private":  "private\n",
		"files/tool.sh":  "#!/bin/sh\n",
		"sub/inner/deep": "deep\n",
	})
	os.Chmod(filepath.Join(g.Dir, "files/private"), 0o600)
	os.Chmod(filepath.Join(g.Dir, "files/tool.sh"), 0o700)
	for link, to := range map[string]string{
		"abs.hcl": outside, "up.hcl": "../outside.txt", "files/up2": "../../outside.txt",
		"loop": "loop", "in": "files/motd", "dirlink": "files", "updir": "..", "sub/back": "../files",
	} {
		if err := os.Symlink(to, filepath.Join(g.Dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	commit := g.Commit("hostile")
	// Git keeps no empty directory: these are not in the commit.
	os.MkdirAll(filepath.Join(g.Dir, "empty/deeper/still"), 0o755)
	os.MkdirAll(filepath.Join(g.Dir, "files/nothing"), 0o755)
	return g, commit
}

// A directory reads exactly as the commit of it does: the same content,
// modes, listings and the same errors, and nothing outside it is read.
func TestDirFSReadsAsTree(t *testing.T) {
	g, commit := hostile(t)
	r, err := Open(g.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	tree, err := r.Tree(commit)
	if err != nil {
		t.Fatal(err)
	}
	dir := DirFS(g.Dir)
	names := []string{".", "site.hcl", "files", "files/motd", "files/private", "files/tool.sh", "abs.hcl", "up.hcl",
		"files/up2", "loop", "in", "dirlink", "dirlink/motd", "dirlink/up2", "updir", "updir/x", "sub/back/motd",
		"sub/back/up2", "missing", "files/motd/x", ".git", ".git/config", "sub/inner", "empty", "empty/deeper",
		"files/nothing"}
	for _, name := range names {
		want, got := describeFS(tree, name), describeFS(dir, name)
		if got != want {
			t.Errorf("%s:\ndirectory:\n%s\ncommit:\n%s", name, got, want)
		}
		if strings.Contains(got, "SECRET") {
			t.Errorf("%s: read a file outside the directory:\n%s", name, got)
		}
	}
	s, _, _ := sample(t)
	s.Write(map[string]string{"www/css/site.css": "body{}\n"}) // links/dir points there
	if err := fstest.TestFS(DirFS(s.Dir), "site.hcl", "files/motd", "files/a/inner.txt", "bin/run.sh",
		"www/latest", "with space/name.txt", "empty", "new.txt"); err != nil {
		t.Fatal(err)
	}
}

func sizeOf(info fs.FileInfo) int64 {
	if info.IsDir() {
		return 0
	}
	return info.Size()
}

// What git cannot hold reads as a tree shows a submodule: an irregular
// entry that cannot be opened.
func TestDirFSIrregular(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "vendor/lib/.git"), 0o755)
	os.WriteFile(filepath.Join(dir, "vendor/lib/x.hcl"), []byte("x"), 0o644)
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o644); err != nil {
		t.Fatal(err)
	}
	fsys := DirFS(dir)
	for name, want := range map[string]string{"vendor/lib": "git submodule", "pipe": "git cannot hold it"} {
		info, err := fs.Stat(fsys, name)
		if err != nil || info.Mode().Type() != fs.ModeIrregular {
			t.Errorf("Stat(%s) = %v, %v; want an irregular entry", name, info, err)
		}
		if _, err := fs.ReadFile(fsys, name); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ReadFile(%s) = %v; want an error saying %q", name, err, want)
		}
	}
	if _, err := fs.ReadFile(fsys, "vendor/lib/x.hcl"); err == nil {
		t.Errorf("a file inside a nested repository was read")
	}
}

// describeFS renders every answer fsys gives about name.
func describeFS(fsys fs.FS, name string) string {
	var b strings.Builder
	data, err := fs.ReadFile(fsys, name)
	fmt.Fprintf(&b, "read %q %v\n", data, err)
	if info, err := fs.Stat(fsys, name); err == nil {
		fmt.Fprintf(&b, "stat %s %v %d\n", info.Name(), info.Mode(), sizeOf(info))
	} else {
		fmt.Fprintf(&b, "stat %v\n", err)
	}
	if info, err := fs.Lstat(fsys, name); err == nil {
		fmt.Fprintf(&b, "lstat %s %v %d\n", info.Name(), info.Mode(), sizeOf(info))
	} else {
		fmt.Fprintf(&b, "lstat %v\n", err)
	}
	to, err := fs.ReadLink(fsys, name)
	fmt.Fprintf(&b, "readlink %q %v\n", to, err)
	ents, err := fs.ReadDir(fsys, name)
	fmt.Fprintf(&b, "readdir %v:", err)
	for _, e := range ents {
		fmt.Fprintf(&b, " %s(%v)", e.Name(), e.Type())
	}
	return b.String()
}

// lfsClean is the clean filter of git lfs, as a shell command: it stores
// the pointer to the content instead of the content.
const lfsClean = `f=$(mktemp); cat >"$f"; printf 'version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %s\n' "$(sha256sum <"$f" | cut -d' ' -f1)" "$(wc -c <"$f" | tr -d ' ')"; rm -f "$f"`

// A file .gitattributes puts through the LFS filter is, in the commit, the
// pointer to its content; the work tree read with DirFS gives the same
// pointer, so validate refuses it as apply does.
func TestDirFSReadsLFSPointers(t *testing.T) {
	g := gittest.New(t)
	g.Git("config", "filter.lfs.clean", lfsClean)
	g.Git("config", "filter.lfs.smudge", "cat")
	g.Git("config", "filter.lfs.required", "true")
	g.Write(map[string]string{
		".gitattributes":     "*.png filter=lfs diff=lfs merge=lfs -text\nassets/** filter=lfs\n# comment\n",
		"logo.png":           "\x89PNG real image bytes\n",
		"plain.txt":          "plain\n",
		"assets/a/b.bin":     "binary\x00data",
		"sub/.gitattributes": "keep.png -filter\n",
		"sub/keep.png":       "not in lfs\n",
		"sub/deep/x.png":     "in lfs\n",
		"site.hcl":           "x = 1\n",
	})
	commit := g.Commit("lfs")
	r, err := Open(g.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	tree, err := r.Tree(commit)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"logo.png", "plain.txt", "assets/a/b.bin", "sub/keep.png", "sub/deep/x.png", "assets", "."} {
		want, got := describeFS(tree, name), describeFS(DirFS(g.Dir), name)
		if got != want {
			t.Errorf("%s:\ndirectory:\n%s\ncommit:\n%s", name, got, want)
		}
	}
	if data, _ := fs.ReadFile(DirFS(g.Dir), "logo.png"); !strings.HasPrefix(string(data), "version https://git-lfs.github.com/spec/v1\n") {
		t.Fatalf("logo.png reads %q, want the LFS pointer", data)
	}
}
