package state

import (
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// The staged set finds each digest added at its ref and no other, also
// where digests share their first 4 bytes (the slot's) or their first
// slot, across the table's growth.
func TestStagedSet(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    int
		// digest i of the case
		make func(i int) [sha256.Size]byte
	}{
		{"none", 0, nil},
		{"one", 1, func(i int) [sha256.Size]byte { return sha256.Sum256([]byte{byte(i)}) }},
		{"random past growth", 5000, func(i int) [sha256.Size]byte {
			return sha256.Sum256(binary.BigEndian.AppendUint32(nil, uint32(i)))
		}},
		{"same first 4 bytes", 300, func(i int) [sha256.Size]byte {
			d := sha256.Sum256(binary.BigEndian.AppendUint32(nil, uint32(i)))
			copy(d[:4], "\xab\xcd\xef\x01")
			return d
		}},
		{"same slot, other heads", 300, func(i int) [sha256.Size]byte {
			d := sha256.Sum256(binary.BigEndian.AppendUint32(nil, uint32(i)))
			binary.BigEndian.PutUint32(d[:4], uint32(i)<<20)
			return d
		}},
		{"zero digest", 1, func(int) [sha256.Size]byte { return [sha256.Size]byte{} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var set stagedSet
			digests := map[uint32][sha256.Size]byte{}
			sameAs := func(sum *[sha256.Size]byte) func(uint32) bool {
				return func(ref uint32) bool { d, ok := digests[ref]; return ok && d == *sum }
			}
			for i := range tc.n {
				d := tc.make(i)
				if _, ok := set.find(&d, sameAs(&d)); ok {
					t.Fatalf("digest %d found before it was added", i)
				}
				ref := packRef(i)
				if i%2 == 1 {
					ref = pendingRef(i)
				}
				digests[ref] = d
				set.add(&d, ref)
			}
			if set.n != tc.n || tc.n > 0 && set.n*5 > len(set.slots)*4 {
				t.Fatalf("%d held in %d slots, want %d at most four fifths full", set.n, len(set.slots), tc.n)
			}
			for ref, d := range digests {
				got, ok := set.find(&d, sameAs(&d))
				if !ok || got != ref {
					t.Fatalf("digest of ref %d: found %d, %v", ref, got, ok)
				}
			}
			r := rand.New(rand.NewPCG(1, 2))
			for range 1000 {
				var d [sha256.Size]byte
				for i := range d {
					d[i] = byte(r.Uint32())
				}
				if tc.n > 0 {
					// Sharing a held digest's first 4 bytes.
					some := tc.make(r.IntN(tc.n))
					copy(d[:4], some[:4])
				}
				if ref, ok := set.find(&d, sameAs(&d)); ok {
					t.Fatalf("a digest never added found at ref %d", ref)
				}
			}
		})
	}
}

// The pack's spilled entries read back, buffered or written out, as
// added: each digest where it was added, offsets following the lengths.
func TestEntrySpill(t *testing.T) {
	for _, n := range []int{0, 1, entBuf/entSize - 1, entBuf / entSize, entBuf/entSize + 1, 3*entBuf/entSize + 7} {
		e := entrySpill{dir: t.TempDir()}
		sums := make([][sha256.Size]byte, n)
		for i := range n {
			sums[i] = sha256.Sum256(binary.BigEndian.AppendUint32(nil, uint32(i)))
			if err := e.add(&sums[i], uint32(i%5)); err != nil {
				t.Fatal(err)
			}
		}
		if n > entBuf/entSize && (e.f == nil || e.out == 0) {
			t.Fatalf("%d entries: none written out", n)
		}
		for i := range n {
			if !e.isDigest(i, &sums[i]) {
				t.Fatalf("%d entries: entry %d's digest not read back", n, i)
			}
			if e.isDigest(i, &sums[(i+1)%n]) && n > 1 {
				t.Fatalf("%d entries: entry %d taken for another's digest", n, i)
			}
		}
		var any [sha256.Size]byte
		if e.isDigest(n, &any) || e.isDigest(-1, &any) {
			t.Fatalf("%d entries: an entry past them found", n)
		}
		ents, err := e.all(8)
		if err != nil || len(ents) != n {
			t.Fatalf("%d entries: read back %d, %v", n, len(ents), err)
		}
		off := int64(8)
		for i, x := range ents {
			if x.sum != sums[i] || x.n != uint32(i%5) || x.off != off {
				t.Fatalf("%d entries: entry %d read back as %x at %d (%d bytes), want %x at %d (%d)", n, i, x.sum[:4], x.off, x.n, sums[i][:4], off, i%5)
			}
			off += int64(x.n)
		}
		e.close()
	}
}

// A blob staged again before the flush is found staged, whether its
// pack entry is still buffered or written out, and so is stored once.
func TestStageAgainFoundStaged(t *testing.T) {
	s, err := NewStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	const n = 5000
	blobs := make([][]byte, n)
	for i := range blobs {
		blobs[i] = binary.BigEndian.AppendUint32([]byte("blob "), uint32(i))
	}
	keys, err := s.StageMany(blobs)
	if err != nil {
		t.Fatal(err)
	}
	if s.pw == nil || s.pw.ents.n != n-packFrom || s.pw.ents.out == 0 {
		t.Fatalf("want %d blobs packed, some entries written out; got %+v", n-packFrom, s.pw)
	}
	again, err := s.StageMany(blobs)
	if err != nil {
		t.Fatal(err)
	}
	if s.pw.ents.n != n-packFrom || len(s.pending) != packFrom {
		t.Fatalf("staged again: %d packed and %d files, want %d and %d", s.pw.ents.n, len(s.pending), n-packFrom, packFrom)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	for i, k := range keys {
		if again[i] != k {
			t.Fatalf("blob %d staged again as %s, first as %s", i, again[i], k)
		}
		if got, err := s.Get(k); err != nil || string(got) != string(blobs[i]) {
			t.Fatalf("blob %d: %q, %v", i, got, err)
		}
	}
}
