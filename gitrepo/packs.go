package gitrepo

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"sort"
	"sync"

	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/idxfile"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/storage/filesystem"
	"github.com/go-git/go-git/v5/storage/filesystem/dotgit"
)

// Objects are read from the repository's packs through indexes loaded
// once per Repo (and for packs added while it is open, when an object is
// found nowhere else) and shared by its readers, each of which has its own pack
// files and object cache, so that reads run in parallel. go-git's storage
// loads every pack index per storage, and per storage builds a map of
// every object by its offset the first time it reads any object: at
// 100,000 objects about 7 MB a reader, once per core. What is not in a
// pack (loose objects, alternates) is read by go-git's storage, under the
// Repo's lock; that storage lists the packs only once, so that without
// looking again a Repo kept open would not find a commit a second fetch
// brought.

// packIndex is one pack's index, and the pack's path and size (0 when
// it could not be told: its objects are then read through go-git alone).
type packIndex struct {
	hash plumbing.Hash
	idx  *sharedIndex
	path string
	size int64
}

// packs returns the indexes of the repository's packs, loaded on first
// use; a pack whose index does not load is left to go-git's storage.
func (r *Repo) packs() []packIndex {
	if l := r.packList.Load(); l != nil {
		return *l
	}
	r.morePacks()
	return *r.packList.Load()
}

// morePacks loads the indexes of the packs not yet listed, and tells
// whether there were any: a Repo kept open reads objects a fetch brought
// after it opened. The list only grows, so that a reader's pack i stays
// the same pack.
func (r *Repo) morePacks() bool {
	r.packMu.Lock()
	defer r.packMu.Unlock()
	var list []packIndex
	if l := r.packList.Load(); l != nil {
		list = *l
	}
	n := len(list)
	dg := dotgit.New(r.gitDir)
	hashes, _ := dg.ObjectPacks()
	for _, h := range hashes {
		if slices.ContainsFunc(list[:n], func(p packIndex) bool { return p.hash == h }) {
			continue
		}
		if idx, err := loadIndex(dg, h); err == nil {
			name := path.Join("objects/pack", "pack-"+h.String()+".pack")
			p := packIndex{hash: h, idx: &sharedIndex{MemoryIndex: idx}, path: r.gitDir.Join(r.gitDir.Root(), name)}
			if info, err := r.gitDir.Stat(name); err == nil {
				p.size = info.Size()
			}
			list = append(list, p)
		}
	}
	r.packList.Store(&list)
	return len(list) > n
}

func loadIndex(dg *dotgit.DotGit, h plumbing.Hash) (*idxfile.MemoryIndex, error) {
	f, err := dg.ObjectPackIdx(h)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	idx := idxfile.NewMemoryIndex()
	if err := idxfile.NewDecoder(f).Decode(idx); err != nil {
		return nil, err
	}
	if !bytes.Equal(idx.PackfileChecksum[:], h[:]) {
		return nil, errors.New("pack index of another pack")
	}
	return idx, nil
}

// dropCaches empties every reader's object cache, and go-git's.
func (r *Repo) dropCaches() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.storage.rd.cache.Clear()
	r.storage.loose.Clear()
	for _, rd := range r.made {
		rd.cache.Clear()
	}
}

// objReader reads objects through its own pack files and cache, its own
// window onto them and its own decompressor (packread.go).
type objReader struct {
	r     *Repo
	cache *objectCache
	files []billy.File
	packs []*packfile.Packfile
	reads []int
	win   packWindow
	flate io.ReadCloser
}

// packRenew is how many objects a reader reads through one go-git
// packfile before it makes a new one: a packfile remembers the type of
// every object it read.
const packRenew = 4096

func (r *Repo) newObjReader(budget int64) *objReader {
	return &objReader{r: r, cache: newObjectCache(budget), win: packWindow{pack: -1}}
}

// file is the reader's file of pack i, opened when first needed.
func (rd *objReader) file(i int, p packIndex) (billy.File, error) {
	if len(rd.files) <= i {
		rd.files = append(rd.files, make([]billy.File, i+1-len(rd.files))...)
		rd.packs = append(rd.packs, make([]*packfile.Packfile, i+1-len(rd.packs))...)
		rd.reads = append(rd.reads, make([]int, i+1-len(rd.reads))...)
	}
	if rd.files[i] == nil {
		f, err := dotgit.New(rd.r.gitDir).ObjectPack(p.hash)
		if err != nil {
			return nil, err
		}
		rd.files[i] = f
	}
	return rd.files[i], nil
}

// pack is the reader's packfile of pack i, opened when first needed.
func (rd *objReader) pack(i int, p packIndex) (*packfile.Packfile, error) {
	if _, err := rd.file(i, p); err != nil {
		return nil, err
	}
	if rd.packs[i] == nil || rd.reads[i] >= packRenew {
		rd.packs[i] = packfile.NewPackfileWithCache(p.idx, rd.r.gitDir, rd.files[i], rd.cache, 0)
		rd.reads[i] = 0
	}
	rd.reads[i]++
	return rd.packs[i], nil
}

// find returns the reader's packfile holding h, and the index, or nil.
func (rd *objReader) find(h plumbing.Hash) (*packfile.Packfile, *sharedIndex) {
	for i, p := range rd.r.packs() {
		if _, _, ok := p.idx.position(h); !ok {
			continue
		}
		// A pack repacked away since it was listed (and not opened by
		// this reader) is passed over: its objects are in another.
		if pf, err := rd.pack(i, p); err == nil {
			return pf, p.idx
		}
	}
	return nil, nil
}

// object reads object h of type t (plumbing.AnyObject: any); st reads
// what the packs do not hold, the caller holding the Repo's lock for it,
// or nil to take it. An object found nowhere is looked for again in the
// packs added since they were listed.
func (rd *objReader) object(t plumbing.ObjectType, h plumbing.Hash, st *filesystem.Storage) (plumbing.EncodedObject, error) {
	for {
		if pf, _ := rd.find(h); pf != nil {
			obj, err := pf.Get(h)
			if err != nil {
				return nil, err
			}
			if t != plumbing.AnyObject && obj.Type() != t {
				return nil, plumbing.ErrObjectNotFound
			}
			return obj, nil
		}
		// go-git's storage lists the packs once too: a pack repacked
		// away since is not found.
		obj, err := rd.unpacked(t, h, st)
		missing := errors.Is(err, plumbing.ErrObjectNotFound) || errors.Is(err, dotgit.ErrPackfileNotFound)
		if !missing || !rd.r.morePacks() {
			return obj, err
		}
	}
}

func (rd *objReader) unpacked(t plumbing.ObjectType, h plumbing.Hash, st *filesystem.Storage) (plumbing.EncodedObject, error) {
	if st == nil {
		rd.r.mu.Lock()
		defer rd.r.mu.Unlock()
		st = rd.r.storage.Storage
	}
	return st.EncodedObject(t, h)
}

// size is the size of object h.
func (rd *objReader) size(h plumbing.Hash) (int64, error) {
	if e, ok, err := rd.packedEntry(h); ok && err != errDelta {
		return e.size, err
	}
	if pf, idx := rd.find(h); pf != nil {
		off, err := idx.FindOffset(h)
		if err != nil {
			return 0, err
		}
		return pf.GetSizeByOffset(off)
	}
	rd.r.mu.Lock()
	defer rd.r.mu.Unlock()
	return rd.r.storage.Storage.EncodedObjectSize(h)
}

func (rd *objReader) close() error {
	var errs []error
	for _, f := range rd.files {
		if f != nil {
			errs = append(errs, f.Close())
		}
	}
	rd.files, rd.packs = nil, nil
	rd.win = packWindow{pack: -1}
	return errors.Join(errs...)
}

// packedStorage is the storage the Repo's go-git repository reads
// through: objects from the shared packs first (with the Repo's own
// reader, under its lock), then go-git's storage.
type packedStorage struct {
	*filesystem.Storage
	rd    *objReader
	loose *objectCache // go-git's storage's: loose objects and alternates'
}

func (s *packedStorage) EncodedObject(t plumbing.ObjectType, h plumbing.Hash) (plumbing.EncodedObject, error) {
	return s.rd.object(t, h, s.Storage)
}

// sharedIndex is a pack's index as its readers use it. go-git's
// MemoryIndex remembers, in a map, the hash of every offset FindOffset
// gave, and builds that map whole the first time FindHash is asked (a
// delta's base): about 60 bytes an object. Here FindOffset remembers
// nothing, and FindHash searches the index's objects sorted by offset (4
// bytes an object), made once.
type sharedIndex struct {
	*idxfile.MemoryIndex
	revOnce  sync.Once
	byOffset []uint32 // positions in name order, sorted by offset
	revErr   error
}

// position finds h: its fanout block and its place in that block.
// Object names spread evenly, so the next two bytes of h say about where
// in its block it is: the search starts there and widens, touching a few
// neighbouring names where a binary search of the block touched a cache
// line at each of its steps.
func (x *sharedIndex) position(h plumbing.Hash) (k, i int, ok bool) {
	k = x.FanoutMapping[h[0]]
	if k < 0 || k >= len(x.Names) {
		return 0, 0, false
	}
	names := x.Names[k]
	n := min(len(x.Offset32[k])/4, len(names)/20)
	if n == 0 {
		return k, 0, false
	}
	at := func(j int) int { return bytes.Compare(h[:], names[j*20:j*20+20]) }
	g := int(uint32(h[1])<<8|uint32(h[2])) * n >> 16
	lo, hi := 0, n // h, if there, is in [lo, hi)
	switch c := at(g); {
	case c == 0:
		return k, g, true
	case c > 0:
		lo = g + 1
		for step := 1; lo < hi; step *= 2 {
			j := g + step
			if j >= n {
				break
			}
			if c = at(j); c <= 0 {
				hi = j + 1
				break
			}
			lo = j + 1
		}
	default:
		hi = g
		for step := 1; lo < hi; step *= 2 {
			j := g - step
			if j < 0 {
				break
			}
			if c = at(j); c >= 0 {
				lo = j
				break
			}
			hi = j
		}
	}
	i, ok = sort.Find(hi-lo, func(j int) int { return at(lo + j) })
	return k, lo + i, ok
}

func (x *sharedIndex) offsetAt(k, i int) (int64, error) {
	o := binary.BigEndian.Uint32(x.Offset32[k][i*4:])
	if o&(1<<31) == 0 {
		return int64(o), nil
	}
	at := 8 * int(o&^(1<<31))
	if at+8 > len(x.Offset64) {
		return 0, fmt.Errorf("%w: offset64 index out of range", idxfile.ErrMalformedIdxFile)
	}
	return int64(binary.BigEndian.Uint64(x.Offset64[at:])), nil
}

// FindOffset implements idxfile.Index.
func (x *sharedIndex) FindOffset(h plumbing.Hash) (int64, error) {
	k, i, ok := x.position(h)
	if !ok {
		return 0, plumbing.ErrObjectNotFound
	}
	return x.offsetAt(k, i)
}

// at returns the block and place of the n-th object in name order.
func (x *sharedIndex) at(n uint32) (k, i int) {
	b := sort.Search(256, func(b int) bool { return x.Fanout[b] > n })
	start := uint32(0)
	if b > 0 {
		start = x.Fanout[b-1]
	}
	return x.FanoutMapping[b], int(n - start)
}

// FindHash implements idxfile.Index.
func (x *sharedIndex) FindHash(o int64) (plumbing.Hash, error) {
	x.revOnce.Do(x.sortByOffset)
	if x.revErr != nil {
		return plumbing.ZeroHash, x.revErr
	}
	j, ok := sort.Find(len(x.byOffset), func(j int) int {
		k, i := x.at(x.byOffset[j])
		off, _ := x.offsetAt(k, i)
		return cmp.Compare(o, off)
	})
	if !ok {
		return plumbing.ZeroHash, plumbing.ErrObjectNotFound
	}
	k, i := x.at(x.byOffset[j])
	var h plumbing.Hash
	copy(h[:], x.Names[k][i*20:])
	return h, nil
}

func (x *sharedIndex) sortByOffset() {
	n := x.Fanout[255]
	offs := make([]int64, n)
	for j := uint32(0); j < n; j++ {
		k, i := x.at(j)
		if offs[j], x.revErr = x.offsetAt(k, i); x.revErr != nil {
			return
		}
	}
	x.byOffset = make([]uint32, n)
	for j := range x.byOffset {
		x.byOffset[j] = uint32(j)
	}
	slices.SortFunc(x.byOffset, func(a, b uint32) int { return cmp.Compare(offs[a], offs[b]) })
}
