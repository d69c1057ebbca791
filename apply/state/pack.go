package state

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"slices"
)

// A pack holds many small blobs in one file, so that storing a tree of
// 100,000 small files creates two files, not 100,000: creating a file is
// most of what a store of small blobs costs. store/pack/<name>.pack is
// the blobs' bytes one after the other, after packMagic; <name>.idx,
// its index, says where each is. A pack is part of the store only once
// its index is in place, which Flush renames there after the pack and
// the index are durable: a pack without an index is what a writer left
// that did not finish, and is removed once no process holds its lock
// (lockPack).
//
// The index (packIndex) is binary, big-endian:
//
//	"TRAILIDX" | version uint32 (1) | count uint32 | pack size uint64
//	fanout: 256 × uint32, entry i the number of blobs whose digest's first byte is ≤ i
//	count × (digest [32] | offset uint64 | length uint32), by digest, each digest once
//	sha256 of all that
//
// The pack's size is there so that a pack cut short is found by what it
// lacks, not by a read failing later.
const (
	packMagic   = "TRAILPCK"
	idxMagic    = "TRAILIDX"
	idxVersion  = 1
	idxHeader   = 8 + 4 + 4 + 8
	idxFanout   = 256 * 4
	idxEntry    = sha256.Size + 8 + 4
	idxTrailer  = sha256.Size
	packSuffix  = ".pack"
	indexSuffix = ".idx"
)

// PackMax is the largest blob Stage and StageMany put in a pack; bigger
// ones stay files of their own. Measured here (CPU a blob, a create,
// write, close and rename against an append): 1 KiB 55–65 → 1 µs, 16
// KiB 133–159 → 6–7, 64 KiB 186–211 → 19–21, 256 KiB 139–146 → 65–76,
// 1 MiB 258–284 → 211–215. Past 64 KiB packing saves half or less, which
// a gc's rewrite of a pack, copying its live bytes once more, takes back. packFrom is how many small blobs a flush
// stores as files before it starts a pack: an apply that changes a few
// files adds no pack, so packs stay few and big.
const (
	PackMax  = 64 << 10
	packFrom = 32
)

// packEntry is a blob in a pack.
type packEntry struct {
	sum [sha256.Size]byte
	off int64
	n   uint32
}

// packIndex is a parsed index: its bytes (read-only; mapped from the
// file by the store) and the pack size it names.
type packIndex struct {
	data  []byte
	count int
	size  int64 // the pack's length
}

// writeIndex writes the index of ents (sorted by digest, each once) for
// a pack of size bytes to w, a piece at a time: at 100,000 blobs the
// index is 4.4 MB that need not be held whole.
func writeIndex(w io.Writer, ents []packEntry, size int64) error {
	h := sha256.New()
	mw := io.MultiWriter(w, h)
	b := make([]byte, 0, idxHeader+idxFanout)
	b = append(b, idxMagic...)
	b = binary.BigEndian.AppendUint32(b, idxVersion)
	b = binary.BigEndian.AppendUint32(b, uint32(len(ents)))
	b = binary.BigEndian.AppendUint64(b, uint64(size))
	var fan [256]uint32
	for i := range ents {
		fan[ents[i].sum[0]]++
	}
	var n uint32
	for _, c := range fan {
		n += c
		b = binary.BigEndian.AppendUint32(b, n)
	}
	if _, err := mw.Write(b); err != nil {
		return err
	}
	var e [idxEntry]byte
	for i := range ents {
		copy(e[:], ents[i].sum[:])
		binary.BigEndian.PutUint64(e[sha256.Size:], uint64(ents[i].off))
		binary.BigEndian.PutUint32(e[sha256.Size+8:], ents[i].n)
		if _, err := mw.Write(e[:]); err != nil {
			return err
		}
	}
	_, err := w.Write(h.Sum(nil))
	return err
}

// sortEntries sorts ents by digest and drops a digest's later copies
// (a blob staged twice whose first copy the staging did not see): the
// copy kept is the one at the lowest offset. Not a stable sort, which
// took 0.05 CPU s of a 100,000-file flush (n log² n moves of 48 bytes).
func sortEntries(ents []packEntry) []packEntry {
	slices.SortFunc(ents, func(a, b packEntry) int {
		// The first 8 bytes as a number order as bytes.Compare does.
		if x, y := binary.BigEndian.Uint64(a.sum[:8]), binary.BigEndian.Uint64(b.sum[:8]); x != y {
			return cmp.Compare(x, y)
		}
		if c := bytes.Compare(a.sum[8:], b.sum[8:]); c != 0 {
			return c
		}
		return cmp.Compare(a.off, b.off)
	})
	return slices.CompactFunc(ents, func(a, b packEntry) bool { return a.sum == b.sum })
}

// errIndex is what a damaged index is.
var errIndex = errors.New("not a pack index")

// parsePackIndex checks index data and returns it parsed: its layout, its
// digests in strictly increasing order agreeing with the fanout, and
// every blob inside the pack the index names. With sum it also checks
// the trailing sha256, which a read for lookups leaves to fsck: the
// index was durable before it was renamed into place.
func parsePackIndex(data []byte, sum bool) (*packIndex, error) {
	if len(data) < idxHeader+idxFanout+idxTrailer || string(data[:8]) != idxMagic {
		return nil, fmt.Errorf("%w: too short or no %s header", errIndex, idxMagic)
	}
	if v := binary.BigEndian.Uint32(data[8:]); v != idxVersion {
		return nil, fmt.Errorf("%w: version %d, this trail reads %d", errIndex, v, idxVersion)
	}
	count := int(binary.BigEndian.Uint32(data[12:]))
	size := binary.BigEndian.Uint64(data[16:])
	if size > 1<<62 || size < uint64(len(packMagic)) {
		return nil, fmt.Errorf("%w: pack size %d", errIndex, size)
	}
	if (len(data)-idxHeader-idxFanout-idxTrailer)/idxEntry != count || (len(data)-idxHeader-idxFanout-idxTrailer)%idxEntry != 0 {
		return nil, fmt.Errorf("%w: %d bytes do not hold %d entries", errIndex, len(data), count)
	}
	if sum {
		body := data[:len(data)-idxTrailer]
		if got := sha256.Sum256(body); !bytes.Equal(got[:], data[len(body):]) {
			return nil, fmt.Errorf("%w: its checksum does not match its content", errIndex)
		}
	}
	ix := &packIndex{data: data, count: count, size: int64(size)}
	var prev uint32
	for b := range 256 {
		n := binary.BigEndian.Uint32(data[idxHeader+4*b:])
		if n < prev || int(n) > count {
			return nil, fmt.Errorf("%w: its fanout is not increasing", errIndex)
		}
		for i := prev; i < n; i++ {
			e := ix.entry(int(i))
			if int(e[0]) != b {
				return nil, fmt.Errorf("%w: entry %d is not where its fanout puts it", errIndex, i)
			}
			if i > 0 && bytes.Compare(ix.entry(int(i) - 1)[:sha256.Size], e[:sha256.Size]) >= 0 {
				return nil, fmt.Errorf("%w: entry %d is out of order", errIndex, i)
			}
			off, n := ix.at(int(i))
			if off < int64(len(packMagic)) || uint64(off)+uint64(n) > size {
				return nil, fmt.Errorf("%w: blob %x lies outside the pack's %d bytes", errIndex, e[:sha256.Size], size)
			}
		}
		prev = n
	}
	if int(prev) != count {
		return nil, fmt.Errorf("%w: its fanout counts %d entries, its header %d", errIndex, prev, count)
	}
	return ix, nil
}

// entry returns entry i's bytes.
func (ix *packIndex) entry(i int) []byte {
	o := idxHeader + idxFanout + i*idxEntry
	return ix.data[o : o+idxEntry]
}

// at returns where blob i lies in the pack.
func (ix *packIndex) at(i int) (off int64, n uint32) {
	e := ix.entry(i)
	return int64(binary.BigEndian.Uint64(e[sha256.Size:])), binary.BigEndian.Uint32(e[sha256.Size+8:])
}

// digest returns the digest of blob i.
func (ix *packIndex) digest(i int) *[sha256.Size]byte {
	return (*[sha256.Size]byte)(ix.entry(i)[:sha256.Size])
}

// find returns the index of the blob of digest sum, or -1. Digests are
// spread evenly, so the entry is first looked for where the 8 bytes
// after its fanout byte put it in its bucket, and then next to there,
// comparing those bytes as a number: at 100,000 entries a binary search
// of a bucket of 400 reads 9 entries far apart in the mapped index,
// each a cache miss, and this a few neighbours. A bucket whose digests
// are not spread so (never seen from sha256) is searched by halves.
func (ix *packIndex) find(sum *[sha256.Size]byte) int {
	lo := 0
	if sum[0] > 0 {
		lo = int(binary.BigEndian.Uint32(ix.data[idxHeader+4*(int(sum[0])-1):]))
	}
	hi := int(binary.BigEndian.Uint32(ix.data[idxHeader+4*int(sum[0]):]))
	if lo >= hi {
		return -1
	}
	v := binary.BigEndian.Uint64(sum[1:])
	g, _ := bits.Mul64(v, uint64(hi-lo))
	m := lo + int(g)
	// Entries are sorted, so their values (ix.value) do not decrease:
	// the first whose value is not below v is sum's place.
	for steps := 0; ; steps++ {
		if steps == findWalk {
			return ix.search(sum, lo, hi)
		}
		if m > lo && ix.value(m-1) >= v {
			m--
		} else if m < hi && ix.value(m) < v {
			m++
		} else {
			break
		}
	}
	for ; m < hi && ix.value(m) == v; m++ {
		if *ix.digest(m) == *sum {
			return m
		}
	}
	return -1
}

// findWalk bounds the entries find steps over from its guess: about
// four times the spread of a guess in a bucket of 100,000 digests' pack.
const findWalk = 64

// value returns the 8 bytes after the fanout byte of entry i's digest.
func (ix *packIndex) value(i int) uint64 {
	return binary.BigEndian.Uint64(ix.data[idxHeader+idxFanout+i*idxEntry+1:])
}

// search is find's binary search of entries [lo, hi).
func (ix *packIndex) search(sum *[sha256.Size]byte, lo, hi int) int {
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		switch c := bytes.Compare(ix.entry(m)[:sha256.Size], sum[:]); {
		case c == 0:
			return m
		case c < 0:
			lo = m + 1
		default:
			hi = m
		}
	}
	return -1
}
