package state_test

import (
	"crypto/sha256"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"trail/apply/state"
)

// A packed blob whose bytes changed in the pack is stored again as a file
// of its own once Rewrite names it (a staging otherwise skips it: a pack
// holds it), and reads then take that good copy instead of the bad one,
// in this Store and in one opened afresh.
func TestPackCorruptFallsBackToOwnFile(t *testing.T) {
	s, err := state.NewStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	blobs := manyBlobs(100)
	keys, err := s.PutMany(blobs)
	if err != nil {
		t.Fatal(err)
	}
	packs, _ := packFiles(t, s)
	corruptPacked(t, filepath.Join(s.Dir, state.DirPack, packs[0]), "file 99\n")
	key := keys[99]
	if !s.Has(key) {
		t.Fatal("Has of a packed blob before Rewrite: false")
	}
	s.Rewrite(key)
	if s.Has(key) {
		t.Fatal("Has of a blob Rewrite named, with no file of its own: true")
	}
	if _, err := s.Put(blobs[99]); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.Path(key)); err != nil {
		t.Fatalf("the blob was not stored again as a file of its own: %v", err)
	}
	for _, st := range []*state.Store{s, mustStore(t, s.Dir)} {
		if got, err := st.Get(key); err != nil || string(got) != "file 99\n" {
			t.Fatalf("Get with a good file of its own beside the bad packed copy: %q, %v", got, err)
		}
		r, err := st.Open(key)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		r.Close()
		if err != nil || string(got) != "file 99\n" {
			t.Fatalf("Open with a good file of its own beside the bad packed copy: %q, %v", got, err)
		}
		if !st.Has(key) {
			t.Fatal("Has after the blob was stored again: false")
		}
	}
	// Without a good file of its own the packed copy's error stands.
	if err := os.WriteFile(s.Path(key), []byte("rot\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := mustStore(t, s.Dir).Get(key); err == nil || !strings.Contains(err.Error(), "is corrupt") {
		t.Fatalf("Get with both copies bad: %v", err)
	}
	r, err := mustStore(t, s.Dir).Open(key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(r); err == nil || !strings.Contains(err.Error(), "is corrupt") {
		t.Fatalf("Open with both copies bad: %v", err)
	}
}

// fsck reports a needed blob's corrupt packed copy beside a good file of
// its own as damage that leaves the content intact, and a gc rewriting
// the pack drops the bad copy and keeps the content, after which fsck
// finds nothing wrong.
func TestPackCorruptBesideOwnFileFsckGC(t *testing.T) {
	dir, keys := packedState(t, func(i int) bool { return i%3 == 0 })
	idx, _ := filepath.Glob(filepath.Join(dir, state.DirStore, state.DirPack, "*.pack"))
	if len(idx) != 1 {
		t.Fatalf("packs %v", idx)
	}
	corruptPacked(t, idx[0], "content 42\n")
	s := mustStore(t, filepath.Join(dir, state.DirStore))
	s.Rewrite(keys[42])
	if _, err := s.Put([]byte("content 42\n")); err != nil {
		t.Fatal(err)
	}
	s.Close()
	rep, err := state.Fsck(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0].Problem, keys[42]) ||
		!strings.Contains(rep.Problems[0].Problem, "corrupt") || !strings.Contains(rep.Problems[0].Problem, "intact") ||
		!strings.HasSuffix(rep.Problems[0].Where, ".pack") {
		t.Fatalf("fsck of a bad packed copy beside a good file of its own: %+v", rep.Problems)
	}
	before := storedCopies(t, dir)
	dry, err := state.GC(dir, 1, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	res, err := state.GC(dir, 1, 0, false)
	if err != nil {
		t.Fatalf("gc of a pack with a bad copy beside a good file of its own: %v", err)
	}
	// The bad copy dropped counts as removed, not kept.
	after := storedCopies(t, dir)
	if res.KeptBlobs != after || res.Blobs != before-after || dry.KeptBlobs != res.KeptBlobs || dry.Blobs != res.Blobs {
		t.Fatalf("gc says it removed %d and kept %d (a dry run %d and %d); of %d copies %d are left",
			res.Blobs, res.KeptBlobs, dry.Blobs, dry.KeptBlobs, before, after)
	}
	if size, _, err := state.MeasureState(dir, false, false); err != nil || res.StateBytes != size {
		t.Fatalf("gc says %d bytes are left; %d are (%v)", res.StateBytes, size, err)
	}
	if got, err := mustStore(t, filepath.Join(dir, state.DirStore)).Get(keys[42]); err != nil || string(got) != "content 42\n" {
		t.Fatalf("after gc: %q, %v", got, err)
	}
	if rep, err := state.Fsck(dir); err != nil || len(rep.Problems) > 0 {
		t.Fatalf("fsck after gc: %+v, %v", rep.Problems, err)
	}
}

// storedCopies counts the blobs the store in state dir holds, a blob
// both packed and of its own twice.
func storedCopies(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(filepath.Join(dir, state.DirStore, "sha256"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	s := mustStore(t, filepath.Join(dir, state.DirStore))
	defer s.Close()
	s.EachPacked(func(*[sha256.Size]byte) { n++ })
	return n
}
