package state

import (
	"testing"

	"golang.org/x/sys/unix"
)

// A staging of many blobs of their own holds their files open until it
// puts them in place: under a low limit of open files (here 200, as a
// shell's ulimit -n sets it) it puts them in place sooner, and a tree
// of 400 large files is stored whole, as where the limit is high.
func TestStageManyUnderLowFileLimit(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir)
	blobs := make([][]byte, 400)
	for i := range blobs {
		blobs[i] = make([]byte, PackMax+1)
		blobs[i][0], blobs[i][1] = byte(i), byte(i>>8)
	}
	var was unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &was); err != nil {
		t.Fatal(err)
	}
	low := was
	low.Cur = 200
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}
	keys, err := s.StageMany(blobs)
	if err == nil {
		err = s.Flush()
	}
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &was); err != nil {
		t.Fatal(err)
	}
	if err != nil {
		t.Fatalf("staging 400 blobs of their own under a limit of 200 open files: %v", err)
	}
	for _, k := range keys {
		if !s.Has(k) {
			t.Fatalf("blob %s is not stored", k)
		}
	}
}
