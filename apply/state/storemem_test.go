package state_test

import (
	"runtime"
	"strconv"
	"testing"

	"trail/apply/state"
)

// What the store holds of blobs staged and not yet flushed stays small a
// blob: a compile stages a whole tree before its one flush, and the key
// and path strings it kept were 20 MB of a 100,000-file first apply;
// then the pack's entries held and a map of the staged digests, 100 to
// 150 bytes a blob, before the entries were spilled to a file and the
// digests found through a table of 8-byte slots.
func TestStagedHeldSmall(t *testing.T) {
	s, err := state.NewStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	const n = 20000
	blobs := make([][]byte, n)
	for i := range blobs {
		blobs[i] = []byte(strconv.Itoa(i))
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for lo := 0; lo < n; lo += 1000 {
		if _, err := s.StageMany(blobs[lo : lo+1000]); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	held := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("%d bytes a staged blob", held/n)
	if per := held / n; per > 40 {
		t.Errorf("the store holds %d bytes a staged blob, want at most 40", per)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	runtime.KeepAlive(blobs)
}
