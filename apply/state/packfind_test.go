package state

import (
	"bytes"
	"crypto/sha256"
	"math/rand/v2"
	"testing"
)

// parsedIndexOf writes and parses the index of a pack of the given digests.
func parsedIndexOf(tb testing.TB, sums [][sha256.Size]byte) *packIndex {
	tb.Helper()
	ents := make([]packEntry, len(sums))
	for i := range sums {
		ents[i] = packEntry{sum: sums[i], off: int64(len(packMagic) + i), n: 1}
	}
	ents = sortEntries(ents)
	var b bytes.Buffer
	if err := writeIndex(&b, ents, int64(len(packMagic)+len(sums))); err != nil {
		tb.Fatal(err)
	}
	ix, err := parsePackIndex(b.Bytes(), true)
	if err != nil {
		tb.Fatal(err)
	}
	return ix
}

// find finds every digest an index holds and no other, whether digests
// are spread evenly (as sha256's are) or crowd together, which the
// guesses from their values must not be misled by.
func TestPackIndexFind(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	random := func() (s [sha256.Size]byte) {
		for i := range s {
			s[i] = byte(r.Uint32())
		}
		return s
	}
	for name, gen := range map[string]func(i int) [sha256.Size]byte{
		"even": func(int) [sha256.Size]byte { return random() },
		// The same first 12 bytes: values all alike.
		"alike": func(int) [sha256.Size]byte {
			s := random()
			copy(s[:12], "samefirst12b")
			return s
		},
		// Values bunched at both ends of their bucket's range.
		"ends": func(i int) [sha256.Size]byte {
			s := random()
			s[0] = 7
			for j := 1; j < 7; j++ {
				s[j] = byte(0xff * (i % 2))
			}
			return s
		},
		// A few values far apart, and many close together.
		"skewed": func(i int) [sha256.Size]byte {
			s := random()
			s[0] = 3
			if i%50 != 0 {
				s[1], s[2] = 0x80, 0
			}
			return s
		},
	} {
		t.Run(name, func(t *testing.T) {
			for _, n := range []int{1, 2, 9, 300, 5000} {
				sums := make([][sha256.Size]byte, n)
				for i := range sums {
					sums[i] = gen(i)
				}
				ix := parsedIndexOf(t, sums)
				for _, s := range sums {
					i := ix.find(&s)
					if i < 0 || *ix.digest(i) != s {
						t.Fatalf("%d entries: %x not found (%d)", n, s, i)
					}
					// Neighbours of a present digest are absent.
					for _, d := range []int{31, 20, 9, 1} {
						for _, delta := range []int{1, -1} {
							o := s
							o[d] += byte(delta)
							if j := ix.find(&o); j >= 0 && *ix.digest(j) != o {
								t.Fatalf("%d entries: %x found at %d, which holds %x", n, o, j, *ix.digest(j))
							} else if j < 0 && contains(sums, o) {
								t.Fatalf("%d entries: %x not found", n, o)
							}
						}
					}
				}
				for range 200 {
					o := gen(r.IntN(n + 1))
					if j := ix.find(&o); (j >= 0) != contains(sums, o) {
						t.Fatalf("%d entries: %x found at %d", n, o, j)
					}
				}
			}
		})
	}
}

func contains(sums [][sha256.Size]byte, s [sha256.Size]byte) bool {
	for _, x := range sums {
		if x == s {
			return true
		}
	}
	return false
}

// BenchmarkPackIndexFind looks up digests in the index of a pack of
// 100,000 blobs, each a present one (`go test -bench PackIndexFind
// ./apply/state/`).
func BenchmarkPackIndexFind(b *testing.B) {
	sums := make([][sha256.Size]byte, 100000)
	for i := range sums {
		sums[i] = sha256.Sum256([]byte{byte(i), byte(i >> 8), byte(i >> 16)})
	}
	ix := parsedIndexOf(b, sums)
	order := rand.New(rand.NewPCG(3, 4)).Perm(len(sums))
	i := 0
	for b.Loop() {
		if ix.find(&sums[order[i%len(order)]]) < 0 {
			b.Fatal("not found")
		}
		i++
	}
}
