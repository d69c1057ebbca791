package fsx

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// With Background on, Create's files are written by the writer, in chunks
// of many, and are all there, whole and with their modes, once Flush
// returns: small ones, one that does not fit in the chunk being filled,
// and one bigger than a chunk, which Create writes itself.
func TestBackgroundCreates(t *testing.T) {
	r, dir := newRoot(t)
	uid, gid := uint32(os.Geteuid()), uint32(os.Getegid())
	want := map[string]string{}
	for d := range 3 {
		mustMkdir(t, filepath.Join(dir, fmt.Sprint("d", d)))
	}
	r.Background(true)
	defer r.Background(false)
	for i := range 3 * chunkFiles {
		p := fmt.Sprintf("/d%d/f%d", i%3, i)
		data := fmt.Sprintf("file %d\n", i)
		switch i {
		case 70:
			data = strings.Repeat("x", chunkData-100) // not in the chunk being filled
		case 150:
			data = strings.Repeat("y", 2*chunkData+3) // in no chunk
		}
		mode := uint32(0o644)
		if i%5 == 0 {
			mode = 0o4750
		}
		if err := r.Create(p, strings.NewReader(data), mode, uid, gid); err != nil {
			t.Fatal(err)
		}
		want[p] = data
	}
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	for p, data := range want {
		got, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil || !bytes.Equal(got, []byte(data)) {
			t.Fatalf("%s holds %d bytes, %v; want %d", p, len(got), err, len(data))
		}
		st, _ := r.Lstat(p)
		var i int
		fmt.Sscanf(filepath.Base(p), "f%d", &i)
		if mode := uint32(0o644); i%5 == 0 && st.Mode != 0o4750 || i%5 != 0 && st.Mode != mode {
			t.Fatalf("%s has mode %04o", p, st.Mode)
		}
	}
	if r.Pending() != 0 {
		t.Fatalf("%d pending after Flush", r.Pending())
	}
}

// A background write that fails is Flush's error, naming its path and
// wrapping its cause; the existing file is left as it was, the files
// queued after it are not made, those before it are.
func TestBackgroundCreateFails(t *testing.T) {
	r, dir := newRoot(t)
	uid, gid := uint32(os.Geteuid()), uint32(os.Getegid())
	mustMkdir(t, filepath.Join(dir, "d"))
	os.WriteFile(filepath.Join(dir, "d/old"), []byte("kept"), 0o640)
	r.Background(true)
	defer r.Background(false)
	for _, p := range []string{"/d/a", "/d/old", "/d/b"} {
		if err := r.Create(p, strings.NewReader("new "+p), 0o644, uid, gid); err != nil {
			t.Fatalf("Create %s: %v, want its error at Flush", p, err)
		}
	}
	err := r.Flush()
	var pe *fs.PathError
	if !errors.Is(err, fs.ErrExist) || !errors.As(err, &pe) || pe.Path != "/d/old" || pe.Op != "create" {
		t.Fatalf("Flush: %v, want create /d/old wrapping fs.ErrExist", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "d/old")); string(b) != "kept" {
		t.Fatalf("the existing file now holds %q", b)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "d/a")); err != nil || string(b) != "new /d/a" {
		t.Fatalf("/d/a, queued before: %q, %v", b, err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "d/b")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("/d/b, queued after the failure, was made: %v", err)
	}
	if err := r.Flush(); err != nil {
		t.Fatalf("a second Flush: %v; the error is told once", err)
	}
}

// Forget closes the descriptors the writes use: it waits for them first,
// and their error stays Flush's. A failing source is Create's own error,
// with nothing made.
func TestBackgroundForgetWaits(t *testing.T) {
	r, dir := newRoot(t)
	uid, gid := uint32(os.Geteuid()), uint32(os.Getegid())
	mustMkdir(t, filepath.Join(dir, "d"))
	os.WriteFile(filepath.Join(dir, "d/old"), []byte("kept"), 0o640)
	r.Background(true)
	defer r.Background(false)
	boom := errors.New("source failed")
	if err := r.Create("/d/src", failingReader{boom}, 0o644, uid, gid); !errors.Is(err, boom) {
		t.Fatalf("Create from a failing source: %v", err)
	}
	for i := range 10 {
		if err := r.Create(fmt.Sprint("/d/f", i), strings.NewReader("x"), 0o644, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	r.Create("/d/old", strings.NewReader("y"), 0o644, uid, gid)
	r.Forget()
	for i := range 10 {
		if _, err := os.Lstat(filepath.Join(dir, fmt.Sprint("d/f", i))); err != nil {
			t.Fatalf("after Forget: %v", err)
		}
	}
	if _, err := os.Lstat(filepath.Join(dir, "d/src")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a failing source left its file: %v", err)
	}
	if err := r.Flush(); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("Flush after Forget: %v, want the failed write's error", err)
	}
}
