package state

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"trail/apply/kind"
	"trail/internal/fsx"
)

// An index told of many entries to come writes them to runs as they are
// put: each is found before the save (the newest for a path put twice),
// the save merges them with the file's entries (a path of both keeps
// the one put), and Mark and KeepMarked read them back.
func TestIndexSpillsRuns(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "index")
	key := func(i int) string { return kind.HashKey([]byte(fmt.Sprint(i))) }
	path := func(i int) string { return fmt.Sprintf("/srv/d%d/f%d", i%7, i) }
	base := LoadIndex(file)
	for i := -50; i < 50; i++ {
		base.Put(path(i), fsx.Stat{Ino: 1, Size: 1}, key(-1))
	}
	if err := base.Save(); err != nil {
		t.Fatal(err)
	}
	const n = 3*minMerge + 17
	fill := func() *Index {
		ix := LoadIndex(file)
		ix.Reserve(n)
		for i := n - 1; i >= 0; i-- {
			ix.Put(path(i), fsx.Stat{Ino: uint64(i), Size: int64(i)}, key(i))
		}
		ix.Put(path(5), fsx.Stat{Ino: 5, Size: 6}, key(-5))
		if len(ix.runs) != 3 || len(ix.ents) != 0 {
			t.Fatalf("%d runs and %d entries held, want 3 runs and none held", len(ix.runs), len(ix.ents))
		}
		return ix
	}
	check := func(ix *Index, what string) {
		t.Helper()
		for i := -50; i < n; i++ {
			e, ok := ix.Entry(path(i))
			wk, ino, size := key(i), uint64(i), int64(i)
			switch {
			case i == 5:
				wk, size = key(-5), 6
			case i < 0:
				wk, ino, size = key(-1), 1, 1
			}
			if !ok || e.Key != wk || e.Ino != ino || e.Size != size {
				t.Fatalf("%s: entry of %s = %+v, %v; want key %s ino %d size %d", what, path(i), e, ok, wk, ino, size)
			}
		}
	}
	ix := fill()
	check(ix, "spilled")
	if err := ix.Save(); err != nil {
		t.Fatal(err)
	}
	if len(ix.runs) != 0 || ix.Dirty {
		t.Fatalf("after the save: %d runs, dirty %v", len(ix.runs), ix.Dirty)
	}
	check(ix, "saved")
	ix.Close()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := ParseIndex(data)
	if err != nil || parsed.Len() != n+50 {
		t.Fatalf("saved index: %v, %d entries, want %d sorted once each", err, parsed.Len(), n+50)
	}
	check(LoadIndex(file), "loaded")

	ix = fill()
	for i := range n {
		if i%2 == 0 {
			ix.Mark(path(i))
		}
	}
	ix.KeepMarked()
	if ix.Len() != (n+1)/2 {
		t.Fatalf("kept %d entries, want %d", ix.Len(), (n+1)/2)
	}
	if e, ok := ix.Entry(path(2)); !ok || e.Key != key(2) {
		t.Fatalf("marked entry: %+v, %v", e, ok)
	}
	if _, ok := ix.Entry(path(3)); ok {
		t.Fatal("an entry not marked was kept")
	}
	ix.Close()
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("state directory holds %d files, want the index alone (runs are unlinked)", len(ents))
	}
}

// What an apply of 50,000 new files puts in the index before its save
// stays on disk: a few bytes a file in memory (the run's line offsets and
// the entries put since the last run), where the entries held took 88.
func TestIndexSpillHoldsLittlePerFile(t *testing.T) {
	const n = 50000
	paths := make([]string, n)
	for i := range paths {
		paths[i] = fmt.Sprintf("/srv/site/d%d/f%d", i/100, i)
	}
	key := kind.HashKey([]byte("x"))
	ix := LoadIndex(filepath.Join(t.TempDir(), "index"))
	defer ix.Close()
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	before := m.HeapAlloc
	ix.Reserve(n)
	for i, p := range paths {
		ix.Put(p, fsx.Stat{Ino: uint64(i), Size: 2, Mtime: 1, Ctime: 1}, key)
	}
	runtime.GC()
	runtime.ReadMemStats(&m)
	per := float64(int64(m.HeapAlloc)-int64(before)) / n
	runtime.KeepAlive(ix)
	runtime.KeepAlive(paths)
	t.Logf("%.1f bytes a file", per)
	if per > 30 {
		t.Fatalf("the index holds %.1f bytes a file put, want at most 30", per)
	}
}

// A save that merges runs writes the file whole, as of now: a loaded
// entry racily clean (its ctime too near the time the file was written
// at, so Lookup does not trust it) is left out rather than made trusted
// by the newer time; the others are kept.
func TestIndexSpillDropsRacy(t *testing.T) {
	file := filepath.Join(t.TempDir(), "index")
	key := kind.HashKey([]byte("x"))
	base := LoadIndex(file)
	base.Put("/srv/old", fsx.Stat{Ino: 1, Size: 1, Ctime: 1}, key)
	base.Put("/srv/racy", fsx.Stat{Ino: 2, Size: 1, Ctime: time.Now().Add(time.Second).UnixNano()}, key)
	if err := base.Save(); err != nil {
		t.Fatal(err)
	}
	ix := LoadIndex(file)
	defer ix.Close()
	ix.Reserve(minMerge)
	for i := range minMerge {
		ix.Put(fmt.Sprintf("/srv/new/f%d", i), fsx.Stat{Ino: uint64(i + 10), Size: 1}, key)
	}
	if len(ix.runs) != 1 {
		t.Fatalf("%d runs, want 1", len(ix.runs))
	}
	if err := ix.Save(); err != nil {
		t.Fatal(err)
	}
	got := LoadIndex(file)
	defer got.Close()
	if _, ok := got.Entry("/srv/racy"); ok {
		t.Fatal("the racily clean entry was written as of the merged save's time")
	}
	if _, ok := got.Entry("/srv/old"); !ok {
		t.Fatal("an entry not racy was dropped")
	}
	if got.Len() != minMerge+1 {
		t.Fatalf("%d entries, want %d", got.Len(), minMerge+1)
	}
}
