package fsx

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Create writes a new file at its name, with no temporary name, with the
// mode asked for; the batch counts it until Flush. A name that exists is
// refused and left as it was.
func TestCreateInPlace(t *testing.T) {
	r, dir := newRoot(t)
	mustMkdir(t, filepath.Join(dir, "d"))
	uid, gid := uint32(os.Geteuid()), uint32(os.Getegid())
	for i, mode := range []uint32{0o644, 0o600, 0o4755} {
		p := "/d/f" + string(rune('a'+i))
		if err := r.Create(p, strings.NewReader("new "+p), mode, uid, gid); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Lstat(filepath.Join(dir, "d", TempName(filepath.Base(p)))); err == nil {
			t.Fatalf("%s: a temporary name was made", p)
		}
		st, err := r.Lstat(p)
		if err != nil || st.Mode != mode {
			t.Fatalf("%s before the flush: mode %04o, %v; want %04o", p, st.Mode, err, mode)
		}
	}
	if r.Pending() != 4 { // three files and their directory
		t.Fatalf("%d pending, want 4", r.Pending())
	}
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "d/fa")); err != nil || string(b) != "new /d/fa" {
		t.Fatalf("/d/fa holds %q, %v", b, err)
	}
	os.WriteFile(filepath.Join(dir, "d/old"), []byte("kept"), 0o640)
	err := r.Create("/d/old", strings.NewReader("replaced"), 0o644, uid, gid)
	if !errors.Is(err, fs.ErrExist) {
		t.Fatalf("Create over an existing file: %v, want an error wrapping fs.ErrExist", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "d/old")); string(b) != "kept" {
		t.Fatalf("the existing file now holds %q", b)
	}
	if r.Pending() != 0 {
		t.Fatalf("a refused Create left %d pending", r.Pending())
	}
}

// A write that fails leaves nothing at the name.
func TestCreateFailedWriteRemoves(t *testing.T) {
	r, dir := newRoot(t)
	boom := errors.New("source failed")
	err := r.Create("/f", failingReader{boom}, 0o644, uint32(os.Geteuid()), uint32(os.Getegid()))
	if !errors.Is(err, boom) {
		t.Fatalf("Create from a failing source: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "f")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a failed Create left the file: %v", err)
	}
}

type failingReader struct{ err error }

func (f failingReader) Read([]byte) (int, error) { return 0, f.err }
