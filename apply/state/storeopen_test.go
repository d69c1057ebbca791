package state_test

import (
	"io"
	"testing"

	"trail/apply/state"
)

// Opening a packed blob costs its bytes and one reader: a first apply
// opens every file's content so.
func TestOpenPackedAllocates(t *testing.T) {
	s, err := state.NewStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	blobs := manyBlobs(100)
	keys, err := s.PutMany(blobs)
	if err != nil {
		t.Fatal(err)
	}
	if !s.HasPacked(keys[50]) {
		t.Fatal("the blob is not packed")
	}
	buf := make([]byte, 64<<10)
	open := func() {
		r, err := s.Open(keys[50])
		if err != nil {
			t.Fatal(err)
		}
		n, err := io.ReadFull(r, buf[:len(blobs[50])])
		if err != nil || string(buf[:n]) != string(blobs[50]) {
			t.Fatalf("read %q, %v", buf[:n], err)
		}
		r.Close()
	}
	if n := testing.AllocsPerRun(50, open); n > 2 {
		t.Errorf("opening a packed blob allocates %v times, want 2 (its bytes and a reader)", n)
	}
}
