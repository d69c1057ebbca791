package host

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"trail/compile"
)

// treesFile caches, in the state directory, the git trees the last apply's
// tree blocks listed, resolved (compile.TreeEntry: names, types, link
// targets and each file's sha256), so the next apply reads from git
// objects only the trees its commit changed, and hashes only the blobs
// those hold that no cached tree knew. Resolved trees are named by their
// object hash and hold nothing a config or host sets, so an entry is never
// stale. It is a cache: what a fault damaged is as if never written.
//
// The file is the magic line and batches, each a uvarint length, that
// many bytes of trees and their sha256. An apply appends in one write the
// trees its commit made (at 100,000 files a pull of one changed file adds
// about 60 KB to a 6 MB file), and writes the file afresh, by a rename,
// with only the commit's trees once the trees no longer listed hold more
// than an eighth as many entries as those listed (each is read, checked
// and indexed by every load until then), or the file ends in a batch cut
// short or damaged (a crash in an append, whose batches before it still
// load).
const treesFile = "trees"

var treesMagic = []byte("trail trees 2\n")

// treeCache is the loaded cache: its file, kept open, and where in it each
// tree's record is. A tree's record is read and its entries decoded when
// a compile asks for it, and not kept: at 100,000 files the decoded trees
// were 16 MB held through the compile, and the file read whole 6. The
// file is only ever appended to or replaced by a rename, so what was
// checked at load is still there; each record's CRC is checked again as
// it is read, and one that does not read back is as if not cached. blobs
// indexes the files the cache knows by their blob hash, made when a
// compile first asks (compile.Options.KnownBlob): only a changed tree's
// entries are looked up, one by one.
type treeCache struct {
	f    *os.File
	at   map[[20]byte]treeAt
	recs []treeAt // the values of at, for blobs
	// last is the record read last, at lastAt: a blob the cache knows is
	// looked up in its tree's record, and those of one directory follow
	// each other.
	last   []byte
	lastAt treeAt
	// size is the file's length as read and good the length of its
	// magic and whole batches (0: no cache file to append to); entries
	// counts the entries of the trees in at.
	size, good int64
	entries    int
	blobsOnce  sync.Once
	blobs      blobIndex
	// indexed is set once blobs was made (a compile asked known).
	indexed bool
	// dir is where the cache's file is. pf is the pending file there
	// (unlinked: a crash leaves nothing) which the trees a compile
	// resolved are written to as it hands them over (resolved), pend
	// where in it each is (the last one handed), pendEntries how many
	// entries those hold and pendSize its length: saveTrees copies them
	// into the cache, and a compile asking again for one reads it there.
	dir         string
	pf          *os.File
	pend        map[[20]byte]treeAt
	pendEntries int
	pendSize    int64
	enc         []byte
}

// treeAt is where a tree's record (its hash, count and entries) is in the
// cache's file, or in its pending file (pend), how many entries it holds
// and its CRC-32.
type treeAt struct {
	off, end, n, crc uint32
	pend             bool
}

// blobIndex finds a known file's entry in the cache by its blob hash:
// by the hash's first 8 bytes, sorted, each with the number of its
// record (in treeCache.recs) and where in that record its entry is (a
// lookup that walked the record from its start took 15 s for
// a directory of 50,000 files). At 100,000 files it is 1.6 MB, where a
// map of the entries was 5.5.
type blobIndex []blobRef

// blobRef is one entry of the index; sorted as one slice by a generic
// sort, the index is made in a third of the time three parallel slices
// sorted through sort.Interface took (0.025 CPU s at 100,000 files, in
// every pull that changed a directory).
type blobRef struct {
	key      uint64
	rec, ent uint32
}

func (h *Host) treesPath() string { return filepath.Join(h.Settings.state(), treesFile) }

// loadTrees reads the cache; any fault gives the batches before it. Each
// batch is checked and its trees' records found, none decoded, and the
// bytes read are let go.
func (h *Host) loadTrees() *treeCache { return loadTreesFile(h.treesPath()) }

func loadTreesFile(file string) *treeCache {
	tc := &treeCache{at: map[[20]byte]treeAt{}, dir: filepath.Dir(file)}
	f, data, ok := readTrees(file)
	if !ok {
		return tc
	}
	if len(data) > math.MaxUint32 {
		f.Close()
		return tc
	}
	tc.f, tc.size = f, int64(len(data))
	if !bytes.HasPrefix(data, treesMagic) {
		return tc
	}
	off := len(treesMagic)
	for off < len(data) {
		lo, hi, next, ok := nextBatch(data, off)
		if !ok || !indexTrees(data, lo, hi, tc) {
			break
		}
		off = next
	}
	tc.good = int64(off)
	for _, a := range tc.at {
		tc.recs = append(tc.recs, a)
	}
	return tc
}

// record reads the record at a, nil if it does not read back as it was
// loaded.
func (tc *treeCache) record(a treeAt) []byte {
	if tc.last != nil && tc.lastAt == a {
		return tc.last
	}
	b := tc.readAt(a, nil)
	if b != nil {
		tc.last, tc.lastAt = b, a
	}
	return b
}

// readAt reads the record at a into buf (grown as needed), nil if it does
// not read back as it was written.
func (tc *treeCache) readAt(a treeAt, buf []byte) []byte {
	f := tc.f
	if a.pend {
		f = tc.pf
	}
	if f == nil || a.end < a.off {
		return nil
	}
	b := slices.Grow(buf[:0], int(a.end-a.off))[:a.end-a.off]
	if _, err := f.ReadAt(b, int64(a.off)); err != nil || crc32.ChecksumIEEE(b) != a.crc {
		return nil
	}
	return b
}

// close closes the cache's file and its pending file, once: what it is
// asked for after is not cached.
func (tc *treeCache) close() {
	if tc.f != nil {
		tc.f.Close()
		tc.f = nil
	}
	if tc.pf != nil {
		tc.pf.Close()
		tc.pf = nil
	}
	tc.last, tc.pend, tc.enc = nil, nil, nil
}

// resolved is compile.Options.Resolved over the cache: the tree's record
// is written to the pending file, not held (at 100,000 files the resolved
// trees were 9 MB held to the compile's end). A tree that cannot be
// written is not cached.
func (tc *treeCache) resolved(hash string, es []compile.TreeEntry) {
	var h [20]byte
	if len(hash) != 40 {
		return
	}
	if _, err := hex.Decode(h[:], []byte(hash)); err != nil {
		return
	}
	if tc.pf == nil {
		if tc.pend != nil {
			// It could not be made.
			return
		}
		tc.pend = map[[20]byte]treeAt{}
		f, err := os.CreateTemp(tc.dir, treesFile+".pending.*")
		if err != nil {
			return
		}
		os.Remove(f.Name())
		tc.pf = f
	}
	b := appendTree(tc.enc[:0], h, es)
	tc.enc = b
	if tc.pendSize+int64(len(b)) > math.MaxUint32 {
		return
	}
	if _, err := tc.pf.WriteAt(b, tc.pendSize); err != nil {
		return
	}
	a := treeAt{off: uint32(tc.pendSize), end: uint32(tc.pendSize) + uint32(len(b)), n: uint32(len(es)), crc: crc32.ChecksumIEEE(b), pend: true}
	tc.pendSize += int64(len(b))
	if old, ok := tc.pend[h]; ok {
		tc.pendEntries -= int(old.n)
	}
	tc.pend[h], tc.pendEntries = a, tc.pendEntries+len(es)
}

// appendTree appends the record of the tree h with entries es to b.
func appendTree(b []byte, h [20]byte, es []compile.TreeEntry) []byte {
	b = append(b, h[:]...)
	b = binary.AppendUvarint(b, uint64(len(es)))
	for i := range es {
		e := &es[i]
		t := byte(e.Type)
		if e.Known {
			t |= 0x80
		}
		b = append(b, t)
		b = binary.AppendUvarint(b, uint64(len(e.Name)))
		b = append(b, e.Name...)
		b = append(b, e.Git[:]...)
		if e.Known {
			b = append(b, e.Sum[:]...)
		}
		if e.Type == compile.EntryLink {
			b = binary.AppendUvarint(b, uint64(len(e.To)))
			b = append(b, e.To...)
		}
	}
	return b
}

// nextBatch returns where the body of the batch at off in data begins and
// ends and where the next batch begins, false if it is cut short or its
// checksum does not match.
func nextBatch(data []byte, off int) (int, int, int, bool) {
	v, n := binary.Uvarint(data[off:min(len(data), off+binary.MaxVarintLen64)])
	if n <= 0 || v > uint64(len(data)-off-n) || len(data)-off-n-int(v) < sha256.Size {
		return 0, 0, 0, false
	}
	lo, hi := off+n, off+n+int(v)
	end := hi + sha256.Size
	if sum := sha256.Sum256(data[lo:hi]); !bytes.Equal(sum[:], data[hi:end]) {
		return 0, 0, 0, false
	}
	return lo, hi, end, true
}

// readTrees opens the cache file and reads it whole, false if it is
// missing or unreadable.
func readTrees(file string) (*os.File, []byte, bool) {
	f, err := os.Open(file)
	if err != nil {
		return nil, nil, false
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, false
	}
	b := make([]byte, st.Size())
	if _, err := io.ReadFull(f, b); err != nil {
		f.Close()
		return nil, nil, false
	}
	return f, b, true
}

// treeReader reads the records of data[off:end].
type treeReader struct {
	data     []byte
	off, end int
	bad      bool
}

func (r *treeReader) uvarint() int {
	v, n := binary.Uvarint(r.data[r.off:min(r.end, r.off+binary.MaxVarintLen64)])
	if n <= 0 || v > uint64(r.end-r.off) {
		r.bad = true
		return 0
	}
	r.off += n
	return int(v)
}

// take skips n bytes, returning where they began.
func (r *treeReader) take(n int) int {
	if r.bad || n > r.end-r.off {
		r.bad = true
		return r.off
	}
	r.off += n
	return r.off - n
}

// entry reads one entry's fields, as offsets: its type byte, name, git
// hash, sha256 (when known: else -1) and link target (else name's end).
func (r *treeReader) entry() (t byte, name, nameEnd, git, sum, to, toEnd int) {
	tp := r.take(1)
	if r.bad {
		return
	}
	t = r.data[tp]
	if t&0x7f > byte(compile.EntryOther) {
		r.bad = true
		return
	}
	ln := r.uvarint()
	name = r.take(ln)
	nameEnd = name + ln
	git, sum = r.take(20), -1
	if t&0x80 != 0 {
		sum = r.take(32)
	}
	to, toEnd = nameEnd, nameEnd
	if compile.EntryType(t&0x7f) == compile.EntryLink {
		ln := r.uvarint()
		to = r.take(ln)
		toEnd = to + ln
	}
	return
}

// indexTrees adds where the trees of the batch data[lo:hi] are to tc;
// false, adding none, if it does not parse.
func indexTrees(data []byte, lo, hi int, tc *treeCache) bool {
	type rec struct {
		hash [20]byte
		at   treeAt
	}
	var recs []rec
	r := &treeReader{data: data, off: lo, end: hi}
	for r.off < hi && !r.bad {
		start := r.take(20)
		n := r.uvarint()
		for i := 0; i < n && !r.bad; i++ {
			r.entry()
		}
		if r.bad {
			return false
		}
		var h [20]byte
		copy(h[:], data[start:start+20])
		recs = append(recs, rec{h, treeAt{off: uint32(start), end: uint32(r.off), n: uint32(n), crc: crc32.ChecksumIEEE(data[start:r.off])}})
	}
	if r.bad {
		return false
	}
	for _, x := range recs {
		if old, ok := tc.at[x.hash]; ok {
			tc.entries -= int(old.n)
		}
		tc.entries += int(x.at.n)
		tc.at[x.hash] = x.at
	}
	return true
}

// decode reads the tree at a and makes its entries, their names sharing
// one string of the record; a link's target is its own string, as it is
// held by the step the compile makes of it. False if the record does not
// read back.
func (tc *treeCache) decode(a treeAt) ([]compile.TreeEntry, bool) {
	b := tc.record(a)
	if b == nil {
		return nil, false
	}
	data := string(b)
	r := &treeReader{data: b, end: len(b)}
	r.take(20)
	es := make([]compile.TreeEntry, r.uvarint())
	for i := range es {
		t, name, nameEnd, git, sum, to, toEnd := r.entry()
		e := &es[i]
		e.Type, e.Known = compile.EntryType(t&0x7f), t&0x80 != 0
		e.Name = data[name:nameEnd]
		copy(e.Git[:], b[git:git+20])
		if e.Known {
			copy(e.Sum[:], b[sum:sum+32])
		}
		if e.Type == compile.EntryLink {
			e.To = strings.Clone(data[to:toEnd])
		}
	}
	return es, !r.bad
}

// tree is compile.Options.Trees over the cache and the trees handed to
// it: each call reads and decodes the tree afresh.
func (tc *treeCache) tree(hash string) ([]compile.TreeEntry, bool) {
	a, ok := tc.atHex(hash)
	if !ok {
		return nil, false
	}
	return tc.decode(a)
}

// indexBlobs makes tc.blobs from the trees in tc.at.
func (tc *treeCache) indexBlobs() {
	x := make(blobIndex, 0, tc.entries)
	for i, a := range tc.recs {
		b := tc.record(a)
		if b == nil {
			continue
		}
		r := &treeReader{data: b, end: len(b)}
		r.take(20)
		for range r.uvarint() {
			at := r.off
			_, _, _, git, sum, _, _ := r.entry()
			if sum >= 0 && !r.bad {
				x = append(x, blobRef{binary.BigEndian.Uint64(b[git : git+8]), uint32(i), uint32(at)})
			}
		}
	}
	tc.last = nil
	slices.SortFunc(x, func(a, b blobRef) int { return cmp.Compare(a.key, b.key) })
	tc.blobs, tc.indexed = x, true
}

// known is compile.Options.KnownBlob over the cache's files.
func (tc *treeCache) known(gitHash string) (string, bool) {
	tc.blobsOnce.Do(tc.indexBlobs)
	var h [20]byte
	if len(gitHash) != 40 {
		return "", false
	}
	if _, err := hex.Decode(h[:], []byte(gitHash)); err != nil {
		return "", false
	}
	x := tc.blobs
	k := binary.BigEndian.Uint64(h[:8])
	i, _ := slices.BinarySearchFunc(x, k, func(e blobRef, k uint64) int { return cmp.Compare(e.key, k) })
	for ; i < len(x) && x[i].key == k; i++ {
		b := tc.record(tc.recs[x[i].rec])
		if b == nil {
			continue
		}
		r := &treeReader{data: b, off: int(x[i].ent), end: len(b)}
		_, _, _, git, sum, _, _ := r.entry()
		if !r.bad && sum >= 0 && bytes.Equal(b[git:git+20], h[:]) {
			return "sha256:" + hex.EncodeToString(b[sum:sum+32]), true
		}
	}
	return "", false
}

// dropBlobs lets go of the blob index, which served the compile only.
func (tc *treeCache) dropBlobs() { tc.blobs = nil }
