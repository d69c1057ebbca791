package state_test

import (
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"trail/apply/kind"
	"trail/apply/state"
)

// packHandles counts this process's descriptors and mappings of files
// in store/pack under dir, and of those the ones of files deleted since.
func packHandles(t *testing.T, dir string) (open, deleted int) {
	t.Helper()
	pdir := filepath.Join(dir, state.DirStore, state.DirPack) + "/"
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		fd := "/proc/self/fd/" + e.Name()
		if l, err := os.Readlink(fd); err == nil && strings.HasPrefix(l, pdir) {
			// A pack linked after it was made with no name (O_TMPFILE)
			// still reads "(deleted)" here: its links say.
			open++
			if fi, err := os.Stat(fd); err == nil && fi.Sys().(*syscall.Stat_t).Nlink == 0 {
				deleted++
			}
		}
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(maps), "\n") {
		if i := strings.Index(line, "/"); i >= 0 && strings.HasPrefix(line[i:], pdir) {
			open++
			if strings.HasSuffix(line, " (deleted)") {
				deleted++
			}
		}
	}
	return open, deleted
}

// A long-lived Store (trail watch's) lets go of the packs a gc removed or
// rewrote when it rereads store/pack: no descriptor or index mapping of
// a deleted pack stays, pinning its disk space; a reader opened before
// the gc still reads its blob whole and verified, and the blobs kept are
// found in the pack the gc wrote.
func TestStoreDropsPacksGCRemoved(t *testing.T) {
	for _, c := range []struct {
		name string
		need func(i int) bool
	}{
		{"removed", func(i int) bool { return i < 32 }},
		{"rewritten", func(i int) bool { return i%3 == 0 }},
	} {
		dir, keys := packedState(t, c.need)
		s, err := state.NewStore(filepath.Join(dir, state.DirStore))
		if err != nil {
			t.Fatal(err)
		}
		readers := map[string]io.ReadCloser{}
		for i, k := range keys {
			if c.need(i) {
				continue
			}
			r, err := s.Open(k)
			if err != nil {
				t.Fatal(err)
			}
			readers[k] = r
		}
		if open, _ := packHandles(t, dir); open == 0 {
			t.Fatalf("%s: the store holds no pack open: no blob read is packed", c.name)
		}
		if _, err := state.GC(dir, 1, 0, false); err != nil {
			t.Fatal(err)
		}
		s.RefreshPacks()
		for k, r := range readers {
			data, err := io.ReadAll(r)
			if err != nil {
				t.Fatalf("%s: a reader opened before the gc: %v", c.name, err)
			}
			if got := kind.HashKey(data); got != k {
				t.Fatalf("%s: a reader opened before the gc read %s, not %s", c.name, got, k)
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
		}
		if _, deleted := packHandles(t, dir); deleted != 0 {
			t.Errorf("%s: after the refresh the store still holds %d descriptors or mappings of deleted packs", c.name, deleted)
		}
		for i, k := range keys {
			if c.need(i) {
				if _, err := s.Get(k); err != nil {
					t.Fatalf("%s: needed blob %d after the gc: %v", c.name, i, err)
				}
			}
		}
		s.Close()
		if open, _ := packHandles(t, dir); open != 0 {
			t.Errorf("%s: a closed store holds %d handles of packs", c.name, open)
		}
	}
}

// A Store that is not told of a gc lets go of the packs it removed at its
// next flush that places a pack.
func TestStoreFlushDropsPacksGCRemoved(t *testing.T) {
	dir, keys := packedState(t, func(i int) bool { return i < 32 })
	s, err := state.NewStore(filepath.Join(dir, state.DirStore))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, k := range keys {
		if _, err := s.Get(k); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := state.GC(dir, 1, 0, false); err != nil {
		t.Fatal(err)
	}
	if _, deleted := packHandles(t, dir); deleted == 0 {
		t.Fatal("before its flush the store holds no handle of the pack the gc removed: the test tests nothing")
	}
	var blobs [][]byte
	for i := range 40 {
		blobs = append(blobs, []byte("after the gc "+strings.Repeat("x", i)))
	}
	if _, err := s.PutMany(blobs); err != nil {
		t.Fatal(err)
	}
	if open, deleted := packHandles(t, dir); deleted != 0 || open == 0 {
		t.Errorf("after a flush the store holds %d handles of packs, %d of deleted ones", open, deleted)
	}
}

// HasPacked finds a blob a pack holds, and not one stored as a file of
// its own, one missing, one Rewrite named or a key that is no key.
func TestHasPacked(t *testing.T) {
	s, err := state.NewStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	blobs := make([][]byte, 100)
	for i := range blobs {
		blobs[i] = []byte("packed " + strconv.Itoa(i))
	}
	keys, err := s.PutMany(blobs)
	if err != nil {
		t.Fatal(err)
	}
	packed := 0
	for _, k := range keys {
		if s.HasPacked(k) {
			packed++
		} else if !s.Has(k) {
			t.Fatalf("%s stored, not found", k)
		}
	}
	if packed == 0 || packed == len(keys) {
		t.Fatalf("%d of %d found packed; want the first few files of their own, the rest packed", packed, len(keys))
	}
	last := keys[len(keys)-1]
	for _, tc := range []struct {
		key  string
		want bool
	}{
		{last, true},
		{keys[0], false}, // the first small blobs of a flush are files of their own
		{kind.HashKey([]byte("missing")), false},
		{"sha256:xyz", false},
		{"", false},
	} {
		if got := s.HasPacked(tc.key); got != tc.want {
			t.Errorf("HasPacked(%q) = %v, want %v", tc.key, got, tc.want)
		}
	}
	s.Rewrite(last)
	if s.HasPacked(last) {
		t.Errorf("HasPacked(%s) after Rewrite: true, want false", last)
	}
}
