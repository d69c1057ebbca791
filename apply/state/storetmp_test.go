package state

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// A staging killed while it writes a blob of its own, with the pack and
// its index written, or with all synced, leaves nothing in store/tmp:
// its files have no name (O_TMPFILE). Where the file system cannot (the
// named fallback), what it left is its writer's lock, free once it is
// killed, so fsck names it and the next trail to take the lock removes
// it, with the pack that has no index.
func TestStoreTempsKilled(t *testing.T) {
	if crashChild(t) {
		return
	}
	for _, named := range []bool{false, true} {
		var env []string
		if named {
			env = []string{"TRAIL_TEST_NO_TMPFILE=1"}
		}
		for _, point := range []string{"blob written", "pack written", "synced"} {
			dir := newCrashState(t, 0)
			runCrash(t, dir, "flush", point, env...)
			tmp := filepath.Join(dir, DirStore, "tmp")
			left, err := readNames(tmp)
			if err != nil {
				t.Fatal(err)
			}
			if named != (len(left) > 0) {
				t.Errorf("named %v, killed at %q: store/tmp holds %v", named, point, left)
			}
			if n := leftoversOnly(t, dir, "killed at "+point); n < len(left) || !named && n > 0 {
				t.Errorf("named %v, killed at %q: fsck names %d leftovers, store/tmp holds %v", named, point, n, left)
			}
			mustOpen(t, filepath.Join(dir, DirStore)).RemoveTemps()
			if left, _ := readNames(tmp); len(left) > 0 {
				t.Errorf("named %v, killed at %q: the next trail left %v in store/tmp", named, point, left)
			}
			if n := leftoversOnly(t, dir, "killed at "+point+", cleaned"); n > 0 {
				t.Errorf("named %v, killed at %q: %d leftovers after the clean", named, point, n)
			}
		}
	}
}

// The sweep of store/tmp keeps what a writer still running holds (its
// staged blobs, its pack's index, a step's work directory), whatever its
// pid, and removes what no writer holds, even when a process now has the
// pid its name starts with.
func TestRemoveTempsKeepsLive(t *testing.T) {
	noTmpfile = true
	defer func() { noTmpfile = false }()
	dir := t.TempDir()
	live := mustOpen(t, dir)
	var blobs [][]byte
	for i := range packFrom + 10 {
		blobs = append(blobs, []byte("live "+strconv.Itoa(i)))
	}
	keys, err := live.StageMany(blobs)
	if err != nil {
		t.Fatal(err)
	}
	work, err := live.MkdirTemp("validate")
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, "tmp")
	before, _ := readNames(tmp)
	if len(before) != packFrom+1 {
		t.Fatalf("store/tmp holds %d names, want the %d staged blobs and the work directory", len(before), packFrom+1)
	}
	reused := filepath.Join(tmp, strconv.Itoa(os.Getpid())+".blob-1")
	if err := os.WriteFile(reused, []byte("left"), 0o600); err != nil {
		t.Fatal(err)
	}
	sweeper := mustOpen(t, dir)
	sweeper.RemoveTemps()
	if _, err := os.Stat(reused); err == nil {
		t.Errorf("%s, which no writer holds, is still there: its pid is a process's, which is no writer's", reused)
	}
	if after, _ := readNames(tmp); len(after) != len(before) {
		t.Fatalf("the sweep removed a live writer's temporary files: %v, was %v", after, before)
	}
	if err := os.RemoveAll(work); err != nil {
		t.Fatal(err)
	}
	if err := live.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if _, err := mustOpen(t, dir).Get(k); err != nil {
			t.Fatal(err)
		}
	}
	if after, _ := readNames(tmp); len(after) != 0 {
		t.Fatalf("after the flush store/tmp holds %v", after)
	}
	live.Close()
	if len(live.tempDirs) != 0 {
		t.Errorf("Close kept the lock of a work directory removed")
	}
}

// A staging of more files of their own than it holds open puts them in
// place ahead of its Flush, durable and whole, and stages on.
func TestStageManyPlacesAhead(t *testing.T) {
	s := mustOpen(t, t.TempDir())
	big := make([]byte, PackMax+1)
	var blobs [][]byte
	for i := range pendingMax() + 3 {
		b := append([]byte(strconv.Itoa(i)+" "), big...)
		blobs = append(blobs, b)
	}
	keys, err := s.StageMany(blobs)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.pending) != 3 {
		t.Fatalf("%d staged files held open, want 3", len(s.pending))
	}
	if !s.Has(keys[0]) || s.Has(keys[len(keys)-1]) {
		t.Fatalf("the first blob is in place %v, the last %v: want only the first", s.Has(keys[0]), s.Has(keys[len(keys)-1]))
	}
	if _, err := s.StageMany(blobs[:1]); err != nil || len(s.pending) != 3 {
		t.Fatalf("a blob put in place ahead staged again: %d pending, %v", len(s.pending), err)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	for i, k := range keys {
		if got, err := mustOpen(t, s.Dir).Get(k); err != nil || string(got) != string(blobs[i]) {
			t.Fatalf("blob %d: %v", i, err)
		}
	}
}
