package fsx

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// OpenReader reads a regular file whole, and refuses what is not one
// without following or waiting on it: a symlink, a fifo with no writer, a
// directory.
func TestOpenReader(t *testing.T) {
	r, dir := newRoot(t)
	big := strings.Repeat("x", 200<<10)
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte(big), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Symlink("f", filepath.Join(dir, "link"))
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustMkdir(t, filepath.Join(dir, "d"))
	f, err := r.OpenReader("/f")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(f)
	if err != nil || string(got) != big {
		t.Fatalf("read %d bytes, %v; want %d", len(got), err, len(big))
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err == nil {
		t.Fatal("a second Close succeeded")
	}
	for _, p := range []string{"/link", "/fifo", "/d", "/missing"} {
		if f, err := r.OpenReader(p); err == nil {
			f.Close()
			t.Errorf("OpenReader(%s) succeeded", p)
		}
	}
}
