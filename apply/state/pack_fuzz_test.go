package state

import (
	"bytes"
	"crypto/sha256"
	"testing"
)

// indexOf is the index writeIndex writes for ents in a pack of size bytes.
func indexOf(t testing.TB, ents []packEntry, size int64) []byte {
	var b bytes.Buffer
	if err := writeIndex(&b, sortEntries(ents), size); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// A pack index that parses is exactly what writeIndex writes for its
// entries, and finds each of them where it is; a damaged one is refused,
// never a panic or a read outside it.
func FuzzParsePackIndex(f *testing.F) {
	var ents []packEntry
	off := int64(len(packMagic))
	for i := range 5 {
		ents = append(ents, packEntry{sum: sha256.Sum256([]byte{byte(i)}), off: off, n: uint32(i)})
		off += int64(i)
	}
	f.Add(indexOf(f, nil, int64(len(packMagic))))
	f.Add(indexOf(f, ents, off))
	f.Add(indexOf(f, ents[:1], off+100))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, sum := range []bool{false, true} {
			ix, err := parsePackIndex(data, sum)
			if err != nil {
				continue
			}
			var got []packEntry
			for i := range ix.count {
				off, n := ix.at(i)
				got = append(got, packEntry{sum: *ix.digest(i), off: off, n: n})
				if j := ix.find(ix.digest(i)); j != i {
					t.Fatalf("entry %d is found at %d", i, j)
				}
			}
			var b bytes.Buffer
			if err := writeIndex(&b, got, ix.size); err != nil {
				t.Fatal(err)
			}
			again := b.Bytes()
			if sum && !bytes.Equal(again, data) || !bytes.Equal(again[:len(again)-sha256.Size], data[:len(data)-sha256.Size]) {
				t.Fatalf("the index parsed is not what its entries write")
			}
			absent := sha256.Sum256(data)
			if j := ix.find(&absent); j >= 0 && *ix.digest(j) != absent {
				t.Fatalf("find of a digest not there gives entry %d", j)
			}
		}
	})
}
