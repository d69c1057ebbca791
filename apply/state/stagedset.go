package state

import (
	"crypto/sha256"
	"encoding/binary"
)

// stagedSet finds what a staging holds by its digest: a table of 8-byte
// slots, open-addressed and probed linearly, each holding the first 4
// bytes of a digest and a ref saying where the whole digest is (never 0:
// 0 is an empty slot). It keeps no digest itself: a staging's digests
// are in its pending list or its pack's spilled entries, and the 4 bytes
// spare a look-up reading one but where they match, which two different
// digests do once in 2^32. At 100,000 staged blobs the table is 1 MiB,
// where a map of the digests' first 8 bytes was 2.4 to 4.7 MB.
type stagedSet struct {
	slots []uint64
	n     int
}

// stagedMinSlots is the table's size at its first add.
const stagedMinSlots = 1024

// find returns the ref of digest sum, asking same of each ref whose slot
// has sum's first 4 bytes whether its digest is sum.
func (t *stagedSet) find(sum *[sha256.Size]byte, same func(ref uint32) bool) (uint32, bool) {
	if t.n == 0 {
		return 0, false
	}
	head := binary.BigEndian.Uint32(sum[:4])
	mask := uint32(len(t.slots) - 1)
	for i := head & mask; ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == 0 {
			return 0, false
		}
		if uint32(s>>32) == head && same(uint32(s)) {
			return uint32(s), true
		}
	}
}

// add notes digest sum at ref (not 0). The caller adds a digest once: it
// asks find first.
func (t *stagedSet) add(sum *[sha256.Size]byte, ref uint32) {
	if ref == 0 {
		panic("stagedSet: ref 0")
	}
	// Grown past four fifths full: a miss then probes about 13 slots,
	// two cache lines.
	if (t.n+1)*5 > len(t.slots)*4 {
		t.grow()
	}
	t.put(uint64(binary.BigEndian.Uint32(sum[:4]))<<32 | uint64(ref))
	t.n++
}

// put places slot s in the first empty slot from its head's.
func (t *stagedSet) put(s uint64) {
	mask := uint32(len(t.slots) - 1)
	i := uint32(s>>32) & mask
	for t.slots[i] != 0 {
		i = (i + 1) & mask
	}
	t.slots[i] = s
}

// grow doubles the table: a slot's head says where it goes, so no
// digest is read.
func (t *stagedSet) grow() {
	old := t.slots
	t.slots = make([]uint64, max(stagedMinSlots, 2*len(old)))
	for _, s := range old {
		if s != 0 {
			t.put(s)
		}
	}
}
