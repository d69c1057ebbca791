package fsx

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func newRoot(t *testing.T) (*Root, string) {
	t.Helper()
	dir := t.TempDir()
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r, dir
}

func mustMkdir(t *testing.T, p string) {
	t.Helper()
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
}

// A symlink in a parent component must never be followed, whether it points
// outside the root or inside it.
func TestPlantedSymlinkInParent(t *testing.T) {
	outside := t.TempDir()
	for name, target := range map[string]string{
		"escaping": outside,
		"inside":   "real",
		"absolute": "/",
	} {
		t.Run(name, func(t *testing.T) {
			r, dir := newRoot(t)
			mustMkdir(t, filepath.Join(dir, "real"))
			mustMkdir(t, filepath.Join(dir, "etc"))
			if err := os.Symlink(target, filepath.Join(dir, "etc", "foo")); err != nil {
				t.Fatal(err)
			}
			ops := map[string]error{}
			ops["stage"] = r.Stage("/etc/foo/x", strings.NewReader("evil"), 0o644, 0, 0)
			ops["mkdir"] = r.Mkdir("/etc/foo/d")
			ops["symlink"] = r.Symlink("y", "/etc/foo/l")
			ops["chmod"] = r.Chmod("/etc/foo/x", 0o777)
			ops["remove"] = r.Remove("/etc/foo/x")
			_, ops["lstat"] = r.Lstat("/etc/foo/x")
			_, ops["read"] = r.ReadFile("/etc/foo/x")
			for op, err := range ops {
				if !errors.Is(err, ErrSymlink) {
					t.Errorf("%s through a symlinked parent: got %v, want ErrSymlink", op, err)
				}
			}
			if err := r.Flush(); err != nil {
				t.Fatal(err)
			}
			for _, d := range []string{outside, filepath.Join(dir, "real")} {
				ents, _ := os.ReadDir(d)
				if len(ents) != 0 {
					t.Errorf("%s was written through the symlink: %v", d, ents)
				}
			}
		})
	}
}

// The last component is not followed either: reading a symlink as a file
// fails, and Chown acts on the link itself.
func TestLastComponentNotFollowed(t *testing.T) {
	r, dir := newRoot(t)
	if err := os.WriteFile(filepath.Join(dir, "target"), []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("target", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadFile("/link"); err == nil {
		t.Fatal("ReadFile followed a symlink")
	}
	st, err := r.Lstat("/link")
	if err != nil || st.Type != Symlink {
		t.Fatalf("Lstat(/link) = %+v, %v; want a symlink", st, err)
	}
	if err := r.Chown("/link", 1234, 1234); err != nil {
		t.Fatal(err)
	}
	tst, _ := r.Lstat("/target")
	if tst.UID == 1234 {
		t.Fatal("Chown followed the symlink to its target")
	}
	lst, _ := r.Lstat("/link")
	if lst.UID != 1234 {
		t.Fatalf("link owner = %d, want 1234", lst.UID)
	}
}

func TestStageFlush(t *testing.T) {
	for _, n := range []int{1, SmallBatch + 5} {
		r, dir := newRoot(t)
		mustMkdir(t, filepath.Join(dir, "d"))
		for i := 0; i < n; i++ {
			p := "/d/f" + string(rune('a'+i))
			if err := r.Stage(p, strings.NewReader(p), 0o640, 7, 8); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Lstat(filepath.Join(dir, p)); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("%s visible before Flush", p)
			}
		}
		if err := r.Flush(); err != nil {
			t.Fatal(err)
		}
		ents, _ := os.ReadDir(filepath.Join(dir, "d"))
		if len(ents) != n {
			t.Fatalf("%d entries after Flush, want %d (temporary files left?)", len(ents), n)
		}
		for i := 0; i < n; i++ {
			p := "/d/f" + string(rune('a'+i))
			b, err := r.ReadFile(p)
			if err != nil || !bytes.Equal(b, []byte(p)) {
				t.Fatalf("ReadFile(%s) = %q, %v", p, b, err)
			}
			st, _ := r.Lstat(p)
			if st.Mode != 0o640 || st.UID != 7 || st.GID != 8 {
				t.Fatalf("%s: mode %o owner %d:%d, want 640 7:8", p, st.Mode, st.UID, st.GID)
			}
		}
	}
}

func TestAbortRemovesStaged(t *testing.T) {
	r, dir := newRoot(t)
	if err := r.Stage("/x", strings.NewReader("x"), 0o644, 0, 0); err != nil {
		t.Fatal(err)
	}
	r.Abort()
	ents, _ := os.ReadDir(dir)
	if len(ents) != 0 {
		t.Fatalf("Abort left %v", ents)
	}
}

func TestRmdirNotEmpty(t *testing.T) {
	r, dir := newRoot(t)
	mustMkdir(t, filepath.Join(dir, "d"))
	os.WriteFile(filepath.Join(dir, "d", "keep"), nil, 0o644)
	if err := r.Rmdir("/d"); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("Rmdir of a non-empty directory: %v, want ErrNotEmpty", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "d", "keep")); err != nil {
		t.Fatal(err)
	}
}

func TestDirReplacedIsLookedUpAgain(t *testing.T) {
	r, dir := newRoot(t)
	if err := r.Mkdir("/d"); err != nil {
		t.Fatal(err)
	}
	if err := r.Stage("/d/x", strings.NewReader("1"), 0o644, 0, 0); err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := r.Remove("/d/x"); err != nil {
		t.Fatal(err)
	}
	if err := r.Rmdir("/d"); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(t.TempDir(), filepath.Join(dir, "d")); err != nil {
		t.Fatal(err)
	}
	if err := r.Stage("/d/x", strings.NewReader("2"), 0o644, 0, 0); !errors.Is(err, ErrSymlink) {
		t.Fatalf("write under a directory replaced by a symlink: %v, want ErrSymlink", err)
	}
}

func TestBadPaths(t *testing.T) {
	r, _ := newRoot(t)
	for _, p := range []string{"", "rel", "/a/../b", "/a//b", "/a/", "/./a"} {
		if _, err := r.Lstat(p); err == nil || errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Lstat(%q) = %v, want a path error", p, err)
		}
	}
}

func TestTempName(t *testing.T) {
	if got := TempName("passwd"); got != ".passwd.trail-tmp" {
		t.Fatalf("TempName = %q", got)
	}
	long := strings.Repeat("x", 250)
	if got := TempName(long); len(got) > 255 || got != TempName(long) {
		t.Fatalf("TempName of a long name = %q", got)
	}
}

// checkPath refuses exactly what a check of every name of the split path
// refused: a path that is empty, relative, with an empty, "." or ".."
// name, a trailing slash or a NUL; "/" itself is clean.
func TestCheckPath(t *testing.T) {
	for p, ok := range map[string]bool{
		"/": true, "/a": true, "/a/b": true, "/.a": true, "/a.": true, "/..a": true,
		"/a../b": true, "/.../b": true, "/a/.b/c": true,
		"": false, ".": false, "a": false, "a/b": false, "//": false, "///": false,
		"//a": false, "/a//b": false, "/a/": false, "/a/b/": false, "/.": false,
		"/..": false, "/./a": false, "/a/.": false, "/a/..": false, "/a/../b": false,
		"/a/./b": false, "/a\x00b": false, "/\x00": false,
	} {
		if err := checkPath(p); (err == nil) != ok {
			t.Errorf("checkPath(%q) = %v, want ok=%v", p, err, ok)
		}
		if (splitCheck(p) == nil) != ok {
			t.Errorf("the split check of %q disagrees: want ok=%v", p, ok)
		}
	}
}

// FuzzCheckPath compares checkPath with the check of every name of the
// split path it replaced.
func FuzzCheckPath(f *testing.F) {
	for _, p := range []string{"/", "//", "/a/../b", "/a/", "/./a", "/a/.", "/a..", ""} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if got, want := checkPath(p) == nil, splitCheck(p) == nil; got != want {
			t.Fatalf("checkPath(%q) ok=%v, the split check ok=%v", p, got, want)
		}
	})
}

func splitCheck(p string) error {
	if p == "" || p[0] != '/' || strings.Contains(p, "//") || strings.IndexByte(p, 0) >= 0 ||
		(len(p) > 1 && p[len(p)-1] == '/') {
		return errors.New("not clean")
	}
	for _, c := range strings.Split(p[1:], "/") {
		if c == "." || c == ".." {
			return errors.New("not clean")
		}
	}
	return nil
}

// A directory found missing is remembered as missing only until the root
// makes a name or forgets: one made by Mkdir, or by a symlink, is then
// seen as it is, and one made behind the root's back after Forget.
func TestMissingDirRemembered(t *testing.T) {
	r, dir := newRoot(t)
	if _, err := r.Lstat("/a/f"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("under a missing directory: %v", err)
	}
	if err := r.Mkdir("/a"); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "a/f"), []byte("x"), 0o644)
	if _, err := r.Lstat("/a/f"); err != nil {
		t.Fatalf("after Mkdir: %v", err)
	}
	if _, err := r.Lstat("/b/f"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("under a missing directory: %v", err)
	}
	if err := r.Symlink("a", "/b"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Lstat("/b/f"); !errors.Is(err, ErrSymlink) {
		t.Fatalf("under a symlink made since: %v, want ErrSymlink", err)
	}
	if _, err := r.Lstat("/c/f"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("under a missing directory: %v", err)
	}
	mustMkdir(t, filepath.Join(dir, "c"))
	os.WriteFile(filepath.Join(dir, "c/f"), []byte("x"), 0o644)
	r.Forget()
	if _, err := r.Lstat("/c/f"); err != nil {
		t.Fatalf("after Forget: %v", err)
	}
}
