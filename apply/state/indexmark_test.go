package state

import (
	"path/filepath"
	"testing"

	"trail/internal/fsx"
)

// Marks on an index not parsed go to its lines: every line marked keeps
// the text unparsed and the index unchanged; a line not marked is dropped,
// as from a parsed index, and a path marked that has no entry (a
// directory's, between two files') marks nothing.
func TestMarkText(t *testing.T) {
	const zeros = "0000000000000000000000000000000000000000000000000000000000000000"
	file := filepath.Join(t.TempDir(), "index")
	ix := LoadIndex(file)
	for i, p := range []string{"/a/1", "/a/2", "/b/1", "/c d/1"} {
		ix.Put(p, fsx.Stat{Ino: uint64(i + 1), Size: 1, Mtime: 1, Ctime: 1}, "sha256:"+zeros)
	}
	if err := ix.Save(); err != nil {
		t.Fatal(err)
	}
	all := []string{"/", "/a", "/a/1", "/a/2", "/b", "/b/1", "/c d", "/c d/1", "/z"}
	ix = LoadIndex(file)
	for _, p := range all {
		ix.Mark(p)
	}
	ix.KeepMarked()
	if ix.text == nil || ix.Dirty {
		t.Fatalf("every entry marked: parsed %v, dirty %v; want neither", ix.text == nil, ix.Dirty)
	}
	for _, p := range all {
		ix.Mark(p)
	}
	ix.KeepMarked()
	if ix.text == nil || ix.Dirty {
		t.Fatal("marked again: the index was parsed or changed")
	}
	ix.Put("/b/1", fsx.Stat{Ino: 9, Size: 1, Mtime: 1, Ctime: 1}, "sha256:"+zeros)
	for _, p := range []string{"/a", "/a/1", "/b", "/b/1", "/c d/1"} {
		ix.Mark(p)
	}
	ix.KeepMarked()
	if !ix.Dirty {
		t.Fatal("an entry not marked, /a/2, was kept")
	}
	if err := ix.Save(); err != nil {
		t.Fatal(err)
	}
	ix = LoadIndex(file)
	for p, want := range map[string]bool{"/a/1": true, "/a/2": false, "/b/1": true, "/c d/1": true} {
		e, ok := ix.Entry(p)
		if ok != want || p == "/b/1" && e.Ino != 9 {
			t.Fatalf("%s after KeepMarked: %+v, %v; want present %v", p, e, ok, want)
		}
	}
}
