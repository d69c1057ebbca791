package state

import (
	"crypto/sha256"
	"testing"
)

// find at the ends of the fanout and of a bucket's values: the first and
// last bucket, digests whose 8 value bytes are all zero or all ones, an
// empty bucket between two full ones, and an index of no entries.
func TestPackIndexFindEdges(t *testing.T) {
	mk := func(first, fill byte, last byte) (s [sha256.Size]byte) {
		s[0] = first
		for i := 1; i < 9; i++ {
			s[i] = fill
		}
		s[31] = last
		return s
	}
	sums := [][sha256.Size]byte{
		mk(0, 0, 0), mk(0, 0, 1), mk(0, 0xff, 0), mk(0, 0xff, 0xff),
		mk(0x10, 0x80, 0), mk(0x12, 0x80, 0),
		mk(0xff, 0, 0), mk(0xff, 0xff, 0xfe), mk(0xff, 0xff, 0xff),
	}
	ix := parsedIndexOf(t, sums)
	for _, s := range sums {
		if i := ix.find(&s); i < 0 || *ix.digest(i) != s {
			t.Errorf("%x not found (%d)", s, i)
		}
	}
	for _, s := range [][sha256.Size]byte{
		mk(0, 0, 2), mk(0, 0x7f, 0), mk(0, 0xff, 0xfe), mk(0x11, 0x80, 0), mk(0x10, 0x80, 1),
		mk(0xff, 0xff, 0xfd), mk(0xff, 0, 1), mk(0xfe, 0xff, 0xff), mk(0x01, 0, 0),
	} {
		if i := ix.find(&s); i >= 0 {
			t.Errorf("%x found at %d, which holds %x", s, i, *ix.digest(i))
		}
	}
	empty := parsedIndexOf(t, nil)
	for _, s := range sums {
		if i := empty.find(&s); i >= 0 {
			t.Errorf("empty index: %x found at %d", s, i)
		}
	}
}
