package state_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"trail/apply/kind"
	"trail/apply/state"
)

// packFiles lists the store's packs and indexes.
func packFiles(t *testing.T, s *state.Store) (packs, idxs []string) {
	t.Helper()
	ents, _ := os.ReadDir(filepath.Join(s.Dir, state.DirPack))
	for _, e := range ents {
		switch filepath.Ext(e.Name()) {
		case ".pack":
			packs = append(packs, e.Name())
		case ".idx":
			idxs = append(idxs, e.Name())
		}
	}
	return packs, idxs
}

// looseCount counts the blobs that are files of their own.
func looseCount(t *testing.T, s *state.Store) int {
	t.Helper()
	n := 0
	filepath.WalkDir(filepath.Join(s.Dir, "sha256"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

// manyBlobs returns n small distinct contents and one big one.
func manyBlobs(n int) [][]byte {
	var out [][]byte
	for i := range n {
		out = append(out, []byte("file "+strconv.Itoa(i)+"\n"))
	}
	return append(out, bytes.Repeat([]byte("big\n"), state.PackMax/4+1))
}

// A flush of many small blobs puts all but the first few in one pack,
// read back verified by Get, Open, Has and Size, by this store and by one
// opened afresh; a big blob stays a file of its own; what was staged
// twice is stored once; a flush of a few blobs makes no pack.
func TestPackRoundTrip(t *testing.T) {
	s, err := state.NewStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	blobs := manyBlobs(500)
	keys, err := s.StageMany(blobs[:300])
	if err != nil {
		t.Fatal(err)
	}
	more, err := s.StageMany(blobs[250:]) // 250..299 a second time
	if err != nil {
		t.Fatal(err)
	}
	keys = append(keys, more[50:]...)
	streamed, err := s.Stage(strings.NewReader("streamed, small"))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if s.Has(k) {
			t.Fatalf("%s is in the store before the flush", k)
		}
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	packs, idxs := packFiles(t, s)
	if len(packs) != 1 || len(idxs) != 1 {
		t.Fatalf("a flush of 501 small blobs made packs %v and indexes %v, want one each", packs, idxs)
	}
	// the first few small ones and the big one are files of their own
	if n := looseCount(t, s); n != 33 {
		t.Fatalf("%d blobs are files of their own, want 33 (32 small, 1 big)", n)
	}
	check := func(s *state.Store) {
		t.Helper()
		for i, k := range append(keys, streamed) {
			want := []byte("streamed, small")
			if i < len(blobs) {
				want = blobs[i]
			}
			if !s.Has(k) {
				t.Fatalf("blob %d %s is not in the store", i, k)
			}
			got, err := s.Get(k)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("Get of blob %d: %q, %v", i, got, err)
			}
			r, err := s.Open(k)
			if err != nil {
				t.Fatal(err)
			}
			got, err = io.ReadAll(r)
			r.Close()
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("Open of blob %d: %q, %v", i, got, err)
			}
			if n, ok := s.Size(k); !ok || n != int64(len(want)) {
				t.Fatalf("Size of blob %d: %d, %v; want %d", i, n, ok, len(want))
			}
		}
		if s.Has(kind.HashKey([]byte("never stored"))) {
			t.Fatal("the store has a blob never stored")
		}
	}
	check(s)
	again, err := state.NewStore(s.Dir)
	if err != nil {
		t.Fatal(err)
	}
	check(again)
	if err := again.Verify(); err != nil {
		t.Fatal(err)
	}
	// the same blobs again: nothing new is written
	if _, err := again.StageMany(blobs); err != nil {
		t.Fatal(err)
	}
	if err := again.Flush(); err != nil {
		t.Fatal(err)
	}
	if packs, _ := packFiles(t, again); len(packs) != 1 {
		t.Fatalf("staging stored blobs again made packs %v", packs)
	}
	// a few new blobs: files of their own, no pack
	if _, err := again.StageMany(blobs[:0:0]); err != nil {
		t.Fatal(err)
	}
	if _, err := again.PutMany([][]byte{[]byte("one"), []byte("two")}); err != nil {
		t.Fatal(err)
	}
	if packs, _ := packFiles(t, again); len(packs) != 1 || looseCount(t, again) != 35 {
		t.Fatalf("a flush of 2 blobs: packs %v, %d files of their own; want no new pack and 35", packs, looseCount(t, again))
	}
}

// A packed blob whose bytes changed in the pack is refused by Get, by
// Open at its end, and by Verify.
func TestPackVerifiesOnRead(t *testing.T) {
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
	// blob 99 ("file 99\n") is packed; change its content in place
	corruptPacked(t, filepath.Join(s.Dir, state.DirPack, packs[0]), "file 99\n")
	for _, st := range []*state.Store{s, mustStore(t, s.Dir)} {
		if _, err := st.Get(keys[99]); err == nil || !strings.Contains(err.Error(), "is corrupt") {
			t.Fatalf("Get of a changed packed blob: %v", err)
		}
		r, err := st.Open(keys[99])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadAll(r); err == nil || !strings.Contains(err.Error(), "is corrupt") {
			t.Fatalf("reading a changed packed blob: %v", err)
		}
		if got, err := st.Get(keys[98]); err != nil || string(got) != "file 98\n" {
			t.Fatalf("its neighbour: %q, %v", got, err)
		}
	}
	if err := s.Verify(); err == nil || !strings.Contains(err.Error(), keys[99]) {
		t.Fatalf("Verify of a store with a changed packed blob: %v", err)
	}
}

func mustStore(t *testing.T, dir string) *state.Store {
	t.Helper()
	s, err := state.NewStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// An abort removes the pack being staged into (named, where the file
// system has no O_TMPFILE); a store made before packs (no pack
// directory) takes them.
func TestPackAbortAndOldStore(t *testing.T) {
	state.NamedTemps(t)
	s := mustStore(t, t.TempDir())
	if _, err := s.StageMany(manyBlobs(100)); err != nil {
		t.Fatal(err)
	}
	if packs, _ := packFiles(t, s); len(packs) != 1 {
		t.Fatalf("staging 100 blobs: packs %v", packs)
	}
	s.Abort()
	if packs, idxs := packFiles(t, s); len(packs)+len(idxs) != 0 {
		t.Fatalf("an abort left %v %v", packs, idxs)
	}
	if err := os.Remove(filepath.Join(s.Dir, state.DirPack)); err != nil {
		t.Fatal(err)
	}
	old := &state.Store{Dir: s.Dir}
	keys, err := old.PutMany(manyBlobs(100))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := mustStore(t, s.Dir).Get(keys[80]); err != nil || string(got) != "file 80\n" {
		t.Fatalf("a packed blob of a store made before packs: %q, %v", got, err)
	}
}

// A pack another process put in place after this store read the pack
// directory is found when a blob is not.
func TestPackAddedByAnother(t *testing.T) {
	dir := t.TempDir()
	reader := mustStore(t, dir)
	if reader.Has(kind.HashKey([]byte("x"))) {
		t.Fatal("an empty store has x")
	}
	keys, err := mustStore(t, dir).PutMany(manyBlobs(100))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := reader.Get(keys[90]); err != nil || string(got) != "file 90\n" {
		t.Fatalf("a blob another store packed: %q, %v", got, err)
	}
}

// A pack being written is its writer's until it is gone, whatever pid its
// name says: one under a pid no process here has (a writer in another pid
// namespace sharing the state) is not removed for a leftover while it is
// written, and flushes whole; one a killed writer left under a pid
// another process now has is removed. (Where the file system takes
// O_TMPFILE a pack has no name until its index is placed.)
func TestUnindexedPackWriterByLock(t *testing.T) {
	state.NamedTemps(t)
	s := mustStore(t, t.TempDir())
	keys, err := s.StageMany(manyBlobs(100))
	if err != nil {
		t.Fatal(err)
	}
	packs, _ := packFiles(t, s)
	if len(packs) != 1 {
		t.Fatalf("staging 100 blobs: packs %v", packs)
	}
	dir := filepath.Join(s.Dir, state.DirPack)
	// Above the kernel's largest pid (1<<22): no process here has it.
	_, rest, _ := strings.Cut(packs[0], ".")
	foreign := "4194305." + rest
	if err := os.Rename(filepath.Join(dir, packs[0]), filepath.Join(dir, foreign)); err != nil {
		t.Fatal(err)
	}
	mustStore(t, s.Dir).RemoveUnindexedPacks()
	if err := os.Rename(filepath.Join(dir, foreign), filepath.Join(dir, packs[0])); err != nil {
		t.Fatalf("a pack being written was removed for a leftover: %v", err)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if got, err := mustStore(t, s.Dir).Get(keys[80]); err != nil || string(got) != "file 80\n" {
		t.Fatalf("the pack flushed: %q, %v", got, err)
	}
	left := filepath.Join(dir, strconv.Itoa(os.Getppid())+".leftover.pack")
	if err := os.WriteFile(left, []byte("TRAILPCK"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustStore(t, s.Dir).RemoveUnindexedPacks()
	if _, err := os.Stat(left); err == nil {
		t.Fatal("a pack no process writes is kept because its pid is another process's now")
	}
}

// mappedRSS returns the resident bytes of this process's mappings of
// file, from /proc/self/smaps.
func mappedRSS(t *testing.T, file string) int64 {
	t.Helper()
	data, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	var rss int64
	in, seen := false, false
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		switch {
		case len(f) > 0 && strings.Contains(f[0], "-") && !strings.HasSuffix(f[0], ":"):
			in = f[len(f)-1] == file
			seen = seen || in
		case in && len(f) == 3 && f[0] == "Rss:":
			n, _ := strconv.ParseInt(f[1], 10, 64)
			rss += n << 10
		}
	}
	if !seen {
		t.Fatalf("%s is not mapped", file)
	}
	return rss
}

// The index of a pack is checked whole when it is opened, but kept
// resident only as far as look-ups read it: at 100,000 blobs (a 4.4 MB
// index) the writer and a store that looks up one blob hold well under
// 1 MiB of it.
func TestPackIndexNotResident(t *testing.T) {
	s := mustStore(t, t.TempDir())
	keys, err := s.PutMany(manyBlobs(100000))
	if err != nil {
		t.Fatal(err)
	}
	_, idxs := packFiles(t, s)
	if len(idxs) != 1 {
		t.Fatalf("indexes %v", idxs)
	}
	idx := filepath.Join(s.Dir, state.DirPack, idxs[0])
	if fi, err := os.Stat(idx); err != nil || fi.Size() < 4<<20 {
		t.Fatalf("the index: %v, %v", fi, err)
	}
	for _, st := range []*state.Store{s, mustStore(t, s.Dir)} {
		if got, err := st.Get(keys[90000]); err != nil || string(got) != "file 90000\n" {
			t.Fatalf("a packed blob: %q, %v", got, err)
		}
		if n := mappedRSS(t, idx); n > 1<<20 {
			t.Errorf("%d bytes of the index are resident after a look-up", n)
		}
		st.Close()
	}
}

// corruptPacked changes the first byte of content where the pack file
// holds it (its letter's case), in place.
func corruptPacked(t *testing.T, file, content string) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	at := bytes.Index(data, []byte(content))
	if at < 0 {
		t.Fatalf("%q is not in the pack %s", content, file)
	}
	data[at] ^= 0x20
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
