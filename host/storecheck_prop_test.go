package host

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"trail/apply/kind"
	"trail/apply/state"
)

// missing answers as Has does, key by key, for random sets of keys over
// random stores: blobs of their own and packed, in several packs and in
// two at once (a store that had not read the other's pack staged it
// again), files removed behind the store's back, a packed copy Rewrite
// named, a blob's file moved into another blob's directory, keys never
// stored, malformed and given twice.
func TestMissingMatchesHasRandom(t *testing.T) {
	for seed := range uint64(6) {
		r := rand.New(rand.NewPCG(seed, 7))
		dir := t.TempDir()
		st, err := state.NewStore(dir)
		if err != nil {
			t.Fatal(err)
		}
		other, err := state.NewStore(dir)
		if err != nil {
			t.Fatal(err)
		}
		other.Has("sha256:" + strings.Repeat("0", 64)) // reads the packs there are: none
		blob := func(i int) []byte { return fmt.Appendf(nil, "seed %d blob %d\n", seed, i) }
		var stored []string
		for range 2 + r.IntN(4) {
			batch := make([][]byte, r.IntN(2000))
			for i := range batch {
				batch[i] = blob(r.IntN(6000))
			}
			keys, err := st.PutMany(batch)
			if err != nil {
				t.Fatal(err)
			}
			stored = append(stored, keys...)
		}
		// The other store packs again what st packed.
		again := make([][]byte, 500)
		for i := range again {
			again[i] = blob(r.IntN(6000))
		}
		if _, err := other.PutMany(again); err != nil {
			t.Fatal(err)
		}
		if len(stored) == 0 {
			continue
		}
		var own []string
		for _, k := range stored {
			if _, err := os.Stat(st.Path(k)); err == nil {
				own = append(own, k)
			}
		}
		for _, k := range own {
			switch r.IntN(20) {
			case 0:
				os.Remove(st.Path(k))
			case 1:
				// Into the directory of a key that is asked for.
				to := filepath.Join(filepath.Dir(st.Path(stored[r.IntN(len(stored))])), filepath.Base(st.Path(k)))
				os.Rename(st.Path(k), to)
			}
		}
		for range 3 {
			st.Rewrite(stored[r.IntN(len(stored))])
		}
		keys := make([]string, listFrom+r.IntN(3000))
		for i := range keys {
			switch n := r.IntN(10); {
			case n < 6:
				keys[i] = stored[r.IntN(len(stored))]
			case n < 8:
				keys[i] = "sha256:" + fmt.Sprintf("%064x", r.Uint64())
			case n < 9:
				keys[i] = kind.HashKey(blob(6000 + r.IntN(100)))
			default:
				keys[i] = []string{"", "sha256:", "sha256:" + strings.Repeat("A", 64), strings.TrimPrefix(stored[0], "sha256:"), "md5:0"}[r.IntN(5)]
			}
		}
		var want []string
		for _, k := range keys {
			if !st.Has(k) {
				want = append(want, k)
			}
		}
		if got := missing(st, keys); !slices.Equal(got, want) {
			t.Fatalf("seed %d, %d keys: missing gives %d, Has %d", seed, len(keys), len(got), len(want))
		}
		st.Close()
		other.Close()
	}
}
