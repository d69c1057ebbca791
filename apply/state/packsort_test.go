package state

import (
	"bytes"
	"crypto/sha256"
	"math/rand/v2"
	"slices"
	"testing"
)

// sortEntries orders entries by digest and keeps, of a digest staged more
// than once, the copy at the lowest offset: what a stable sort of entries
// in offset order kept.
func TestSortEntriesKeepsFirst(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var ents []packEntry
	off := int64(len(packMagic))
	for i := range 5000 {
		sum := sha256.Sum256([]byte{byte(i), byte(i >> 8)})
		if i%7 == 3 {
			sum = ents[r.IntN(len(ents))].sum
		}
		if i%11 == 5 {
			// A digest sharing its first 8 bytes with another's.
			sum = ents[r.IntN(len(ents))].sum
			sum[31] ^= 1
		}
		n := uint32(1 + r.IntN(30))
		ents = append(ents, packEntry{sum: sum, off: off, n: n})
		off += int64(n)
	}
	want := slices.Clone(ents)
	slices.SortStableFunc(want, func(a, b packEntry) int { return bytes.Compare(a.sum[:], b.sum[:]) })
	want = slices.CompactFunc(want, func(a, b packEntry) bool { return a.sum == b.sum })
	r.Shuffle(len(ents), func(i, j int) { ents[i], ents[j] = ents[j], ents[i] })
	if got := sortEntries(ents); !slices.Equal(got, want) {
		t.Fatalf("sortEntries kept %d entries, want %d, or others than the first copies", len(got), len(want))
	}
}
