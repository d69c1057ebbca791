package state_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"trail/apply/kind"
	"trail/apply/state"
)

// packedState is a state directory whose store holds 400 blobs from one
// flush (32 of their own, the rest packed) and whose applied record
// names those of need.
func packedState(t *testing.T, need func(i int) bool) (dir string, keys []string) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "state")
	if err := os.MkdirAll(filepath.Join(dir, state.DirGenerations), 0o700); err != nil {
		t.Fatal(err)
	}
	s, err := state.NewStore(filepath.Join(dir, state.DirStore))
	if err != nil {
		t.Fatal(err)
	}
	var blobs [][]byte
	for i := range 400 {
		blobs = append(blobs, fmt.Appendf(nil, "content %d\n", i))
	}
	if keys, err = s.PutMany(blobs); err != nil {
		t.Fatal(err)
	}
	s.Close()
	text := state.AppliedHeader + "0\n"
	for i, k := range keys {
		if need(i) {
			text += fmt.Sprintf("FILE\t/srv/f%d\treport\tabsent\tfile content=%s mode=0644\n", i, k)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, state.FileApplied), []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, keys
}

func packNames(t *testing.T, dir string) []string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, state.DirStore, state.DirPack, "*"))
	return m
}

// trail gc removes a pack none of whose blobs is needed, rewrites one
// with many dead blobs to hold the live ones only, and leaves one with
// few; what it says it freed is what the state lost, and a dry run says
// the same and changes nothing.
func TestGCPacks(t *testing.T) {
	for _, c := range []struct {
		name      string
		need      func(i int) bool
		packsLeft int // files in store/pack after
		same      bool
	}{
		{"all dead", func(i int) bool { return i < 32 }, 0, false},
		{"mostly dead", func(i int) bool { return i%3 == 0 }, 2, false},
		{"few dead", func(i int) bool { return i%20 != 0 }, 2, true},
	} {
		dir, keys := packedState(t, c.need)
		before := packNames(t, dir)
		size, _, err := state.MeasureState(dir, false, false)
		if err != nil {
			t.Fatal(err)
		}
		dry, err := state.GC(dir, 1, 0, true)
		if err != nil {
			t.Fatal(err)
		}
		if got := packNames(t, dir); strings.Join(got, " ") != strings.Join(before, " ") {
			t.Fatalf("%s: a dry run changed the packs: %v, was %v", c.name, got, before)
		}
		res, err := state.GC(dir, 1, 0, false)
		if err != nil {
			t.Fatal(err)
		}
		after, _, err := state.MeasureState(dir, false, false)
		if err != nil {
			t.Fatal(err)
		}
		if res.StateBytes != after || size-res.Freed() != after {
			t.Errorf("%s: gc freed %d of %d bytes and says %d are left; %d are", c.name, res.Freed(), size, res.StateBytes, after)
		}
		if dry.Blobs != res.Blobs || dry.BlobBytes != res.BlobBytes || dry.StateBytes != res.StateBytes {
			t.Errorf("%s: the dry run said %d blobs, %d bytes, %d left; the gc %d, %d, %d", c.name, dry.Blobs, dry.BlobBytes, dry.StateBytes, res.Blobs, res.BlobBytes, res.StateBytes)
		}
		got := packNames(t, dir)
		if len(got) != c.packsLeft || (strings.Join(got, " ") == strings.Join(before, " ")) != c.same {
			t.Fatalf("%s: packs after gc %v, before %v", c.name, got, before)
		}
		s, err := state.NewStore(filepath.Join(dir, state.DirStore))
		if err != nil {
			t.Fatal(err)
		}
		removed := 0
		for i, k := range keys {
			if c.need(i) {
				if _, err := s.Get(k); err != nil {
					t.Fatalf("%s: needed blob %d: %v", c.name, i, err)
				}
			} else if !s.Has(k) {
				removed++
			} else if !c.same {
				t.Fatalf("%s: blob %d, not needed, is still there", c.name, i)
			}
		}
		if removed != res.Blobs || res.KeptBlobs != len(keys)-removed {
			t.Errorf("%s: gc says it removed %d and kept %d blobs; %d are gone of %d", c.name, res.Blobs, res.KeptBlobs, removed, len(keys))
		}
		if rep, err := state.Fsck(dir); err != nil || len(rep.Problems) > 0 {
			t.Fatalf("%s: fsck after gc: %+v, %v", c.name, rep, err)
		}
	}
}

// The automatic gc keeps the state's running size right across a pack's
// rewrite: what it saves is what a measure finds.
func TestAutoGCPackSize(t *testing.T) {
	dir, _ := packedState(t, func(i int) bool { return i%3 == 0 })
	size, _, err := state.MeasureState(dir, true, false)
	if err != nil {
		t.Fatal(err)
	}
	res, err := state.AutoGC(dir, 1, 0, size)
	if err != nil {
		t.Fatal(err)
	}
	after, _, err := state.MeasureState(dir, false, false)
	if err != nil {
		t.Fatal(err)
	}
	if res.StateBytes != after || res.Blobs == 0 {
		t.Fatalf("the automatic gc removed %d blobs and saved %d bytes as the state's size; it is %d", res.Blobs, res.StateBytes, after)
	}
}

// Many small packs (an apply of a few dozen files each) are merged into
// one by gc, so that a look-up reads a few indexes.
func TestGCMergesSmallPacks(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	s, err := state.NewStore(filepath.Join(dir, state.DirStore))
	if err != nil {
		t.Fatal(err)
	}
	text := state.AppliedHeader + "0\n"
	for p := range 12 {
		var blobs [][]byte
		for i := range 40 {
			blobs = append(blobs, fmt.Appendf(nil, "pack %d blob %d\n", p, i))
		}
		keys, err := s.PutMany(blobs)
		if err != nil {
			t.Fatal(err)
		}
		for i, k := range keys {
			text += fmt.Sprintf("FILE\t/srv/p%d-%d\treport\tabsent\tfile content=%s mode=0644\n", p, i, k)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, state.FileApplied), []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if n := len(packNames(t, dir)); n != 24 {
		t.Fatalf("12 flushes of 40 blobs made %d pack files, want 24", n)
	}
	if _, err := state.GC(dir, 1, 0, false); err != nil {
		t.Fatal(err)
	}
	if n := len(packNames(t, dir)); n != 2 {
		t.Fatalf("gc left %d pack files of 12 small packs, want one pack and its index", n)
	}
	fresh, err := state.NewStore(s.Dir)
	if err != nil {
		t.Fatal(err)
	}
	for p := range 12 {
		for i := range 40 {
			want := fmt.Sprintf("pack %d blob %d\n", p, i)
			if got, err := fresh.Get(kind.HashKey([]byte(want))); err != nil || string(got) != want {
				t.Fatalf("after the merge: %q, %v", got, err)
			}
		}
	}
}

// fsck checks packed blobs and the packs themselves: a changed packed
// blob (needed or not), a pack cut short of what its index names, an
// index whose checksum fails, an index without its pack, and a pack
// without its index (a leftover of a killed writer) are each reported
// where they are.
func TestFsckPacks(t *testing.T) {
	pack := func(t *testing.T, dir string) (string, string) {
		t.Helper()
		idx, _ := filepath.Glob(filepath.Join(dir, state.DirStore, state.DirPack, "*.idx"))
		if len(idx) != 1 {
			t.Fatalf("indexes %v", idx)
		}
		base := strings.TrimSuffix(idx[0], ".idx")
		return base + ".pack", idx[0]
	}
	for _, c := range []struct {
		name   string
		damage func(t *testing.T, packFile, idxFile string)
		want   []string // in the problems, in order of where
	}{
		{"blob changed", func(t *testing.T, p, _ string) {
			data, _ := os.ReadFile(p)
			for _, n := range []string{"content 40\n", "content 41\n"} {
				i := strings.Index(string(data), n)
				data[i] = 'C'
			}
			os.WriteFile(p, data, 0o600)
		}, []string{"needed by FILE /srv/f40 (content): corrupt", ": corrupt", "nothing the applied record names needs it"}},
		{"cut short", func(t *testing.T, p, _ string) {
			fi, _ := os.Stat(p)
			os.Truncate(p, fi.Size()-3)
		}, []string{"needed by FILE /srv/f40 (content): missing", "damaged pack", "cut short"}},
		{"index damaged", func(t *testing.T, _, i string) {
			data, _ := os.ReadFile(i)
			data[len(data)-40] ^= 1
			os.WriteFile(i, data, 0o600)
		}, []string{"damaged pack", "checksum"}},
		{"pack missing", func(t *testing.T, p, _ string) { os.Remove(p) }, []string{"missing", "index of a pack that is not there"}},
		{"index missing", func(t *testing.T, p, i string) {
			os.Remove(i)
			os.Rename(p, filepath.Join(filepath.Dir(p), "999999999.x.pack"))
		}, []string{"missing", "a pack without its index"}},
	} {
		dir, _ := packedState(t, func(i int) bool { return i == 40 })
		p, i := pack(t, dir)
		c.damage(t, p, i)
		rep, err := state.Fsck(dir)
		if err != nil {
			t.Fatal(err)
		}
		var all []string
		for _, pr := range rep.Problems {
			all = append(all, pr.Where+": "+pr.Problem)
		}
		text := strings.Join(all, "\n")
		at := 0
		for _, w := range c.want {
			j := strings.Index(text[at:], w)
			if j < 0 {
				t.Fatalf("%s: fsck does not say %q (in order):\n%s", c.name, w, text)
			}
			at += j
		}
		if c.name == "blob changed" && !strings.Contains(text, filepath.Base(p)) {
			t.Fatalf("%s: fsck does not name the pack:\n%s", c.name, text)
		}
	}
}
