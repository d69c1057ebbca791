package state

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// A blob whose pack entry cannot be written out (its spill file cannot
// be made) is not staged, and leaves the pack as it was: the blobs staged
// before and after it, once the spill works again, read back after the
// flush. Were its data in the pack without its entry, every later blob's
// offset, which follows from the lengths before it, would be wrong.
func TestPackEntryFailureLeavesPackWhole(t *testing.T) {
	s, err := NewStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	blob := func(i int) []byte { return binary.BigEndian.AppendUint32([]byte("entry blob "), uint32(i)) }
	var keys []string
	i := 0
	stage := func() error {
		k, err := s.Stage(bytes.NewReader(blob(i)))
		if err == nil {
			keys = append(keys, k)
		}
		i++
		return err
	}
	// Up to the entry that fills the buffer: the next one writes it out.
	for s.pw == nil || len(s.pw.ents.buf)+entSize <= entBuf {
		if err := stage(); err != nil {
			t.Fatal(err)
		}
	}
	dir := s.pw.ents.dir
	s.pw.ents.dir = filepath.Join(dir, "gone")
	if err := stage(); err == nil {
		t.Fatal("staged with no spill file to write the entries to")
	}
	s.pw.ents.dir = dir
	for range 100 {
		if err := stage(); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	for j, k := range keys {
		if _, err := s.Get(k); err != nil {
			t.Fatalf("blob %d of %d: %v", j, len(keys), err)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("store/tmp holds %d names after the flush", len(ents))
	}
}

// The spill file has no name while it is written: nothing in store/tmp
// for a trail killed then to leave behind.
func TestEntrySpillHasNoName(t *testing.T) {
	dir := t.TempDir()
	e := entrySpill{dir: dir}
	defer e.close()
	var sum [32]byte
	for i := 0; e.f == nil; i++ {
		binary.BigEndian.PutUint32(sum[:], uint32(i))
		if err := e.add(&sum, 1); err != nil {
			t.Fatal(err)
		}
	}
	fi, err := e.f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 || fi.Sys().(*syscall.Stat_t).Nlink != 0 {
		t.Fatalf("the spill file has %d links; its directory holds %d names", fi.Sys().(*syscall.Stat_t).Nlink, len(ents))
	}
}
