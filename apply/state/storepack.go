package state

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// DirPack is the store's directory of packs (pack.go).
const DirPack = "pack"

// packSet is the packs a Store reads, loaded when first needed and again
// when a blob is not found after the directory changed: another process
// (a compile, which stores without the lock) may have added one.
type packSet struct {
	mu     sync.Mutex
	loaded bool
	list   []*storePack
	names  map[string]bool
	mtime  unix.Timespec // store/pack's when it was read
	read   time.Time
}

// storePack is a pack the store reads: its index mapped, its data open.
// A pack whose index left store/pack (a gc removed or rewrote it) is
// dropped from the set and let go of once no look-up holds it (refs).
type storePack struct {
	name    string // the path without its suffix
	ix      *packIndex
	f       *os.File
	refs    int  // look-ups using it now (hold), under packSet.mu
	dropped bool // out of the set: closed when refs is 0
}

// packDir is where the store's packs are.
func (s *Store) packDir() string { return filepath.Join(s.Dir, DirPack) }

// refreshPacks reads store/pack for packs not loaded yet: always the
// first time, then when force or when the directory changed since (or
// changed so recently that its time may not show a change yet).
func (s *Store) refreshPacks(force bool) {
	ps := &s.packs
	var st unix.Stat_t
	if unix.Stat(s.packDir(), &st) != nil {
		ps.loaded = true
		return
	}
	if ps.loaded && !force && st.Mtim == ps.mtime && time.Since(ps.read) > 2*time.Second {
		return
	}
	ps.loaded, ps.mtime, ps.read = true, st.Mtim, time.Now()
	names, err := readNames(s.packDir())
	if err != nil {
		return
	}
	there := make(map[string]bool, len(names))
	for _, n := range names {
		base, ok := strings.CutSuffix(n, indexSuffix)
		if !ok {
			continue
		}
		there[base] = true
		if ps.names[base] {
			continue
		}
		if p, err := openPack(filepath.Join(s.packDir(), base), false); err == nil {
			ps.add(p)
		}
	}
	ps.dropGone(there)
}

// dropGone drops the packs whose index is not among there (a gc removed
// the pack or rewrote it into another): a long-lived Store (trail watch's)
// otherwise holds every pack it ever read open, and with it the disk
// space of the deleted files. One a look-up holds is closed at its
// release; a reader Open returned has its own handle of the data.
func (ps *packSet) dropGone(there map[string]bool) {
	list := ps.list[:0]
	for _, p := range ps.list {
		base := filepath.Base(p.name)
		if there[base] {
			list = append(list, p)
			continue
		}
		delete(ps.names, base)
		p.dropped = true
		if p.refs == 0 {
			p.close()
		}
	}
	clear(ps.list[len(list):])
	ps.list = list
}

// release lets go of a pack hold returned.
func (s *Store) release(p *storePack) {
	ps := &s.packs
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if p.refs--; p.refs == 0 && p.dropped {
		p.close()
	}
}

// RefreshPacks rereads store/pack: it takes in the packs another process
// added and lets go of those a gc removed. An engine kept for long (trail
// watch's) calls it after its gc.
func (s *Store) RefreshPacks() {
	ps := &s.packs
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.loaded {
		s.refreshPacks(true)
	}
}

func (ps *packSet) add(p *storePack) {
	if ps.names == nil {
		ps.names = map[string]bool{}
	}
	ps.names[filepath.Base(p.name)] = true
	ps.list = append(ps.list, p)
}

// openPack maps the index of the pack at name (its path without suffix)
// and opens its data; with sum the index's checksum is checked too. A
// pack shorter than its index says is an error.
func openPack(name string, sum bool) (*storePack, error) {
	ix, err := mapIndex(name+indexSuffix, sum)
	if err != nil {
		return nil, err
	}
	data := ix.data
	f, err := os.Open(name + packSuffix)
	if err != nil {
		unix.Munmap(data)
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil && fi.Size() < ix.size {
		err = fmt.Errorf("%s: the pack has %d bytes, its index names %d: it was cut short", name+packSuffix, fi.Size(), ix.size)
	}
	if err != nil {
		f.Close()
		unix.Munmap(data)
		return nil, err
	}
	return &storePack{name: name, ix: ix, f: f}, nil
}

// mapIndex maps the pack index file and checks it (parsePackIndex). The
// check reads every page of it; a look-up needs a few, so they are let go
// of from this process's resident memory (they stay in the page cache):
// at 100,000 blobs a store that opened the index for one look-up held
// 4.3 MiB more without.
func mapIndex(file string, sum bool) (*packIndex, error) {
	data, err := mapFile(file)
	if err != nil {
		return nil, err
	}
	ix, err := parsePackIndex(data, sum)
	if err != nil {
		unix.Munmap(data)
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	unix.Madvise(data, unix.MADV_DONTNEED)
	return ix, nil
}

// mapFile maps file read-only: an index is read by a few lookups each
// touching a few of its pages, and a mapping's pages are the page
// cache's, not the heap's.
func mapFile(file string) ([]byte, error) {
	fd, err := unix.Open(file, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: file, Err: err}
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, &fs.PathError{Op: "stat", Path: file, Err: err}
	}
	if st.Size < idxHeader+idxFanout+idxTrailer || st.Size > 1<<40 {
		return nil, fmt.Errorf("%s: %w: %d bytes", file, errIndex, st.Size)
	}
	data, err := unix.Mmap(fd, 0, int(st.Size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, &fs.PathError{Op: "mmap", Path: file, Err: err}
	}
	return data, nil
}

// packed finds the blob of digest sum in a pack; rescan looks for packs
// added since, when it is in none loaded. Only the pack's name may be
// used after: a refresh may let go of the pack meanwhile (see hold).
func (s *Store) packed(sum *[sha256.Size]byte, rescan bool) (*storePack, int, bool) {
	return s.find(sum, rescan, false)
}

// hold is packed for a look-up that reads the pack: it stays open until
// the caller releases it.
func (s *Store) hold(sum *[sha256.Size]byte, rescan bool) (*storePack, int, bool) {
	return s.find(sum, rescan, true)
}

func (s *Store) find(sum *[sha256.Size]byte, rescan, hold bool) (*storePack, int, bool) {
	ps := &s.packs
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if !ps.loaded {
		s.refreshPacks(true)
	} else if rescan {
		s.refreshPacks(false)
	}
	for _, p := range ps.list {
		if i := p.ix.find(sum); i >= 0 {
			if hold {
				p.refs++
			}
			return p, i, true
		}
	}
	return nil, 0, false
}

// digestOf returns the digest a checked key names.
func digestOf(key string) (sum [sha256.Size]byte) {
	hex.Decode(sum[:], []byte(key[len("sha256:"):]))
	return sum
}

// readPacked returns blob i of pack p, verified against its key.
func readPacked(p *storePack, i int, key string) ([]byte, error) {
	off, n := p.ix.at(i)
	data := make([]byte, n)
	if _, err := p.f.ReadAt(data, off); err != nil {
		if err == io.EOF {
			return nil, corrupt(key, "nothing whole: the pack "+p.name+packSuffix+" ends inside it")
		}
		return nil, fmt.Errorf("store: %w", err)
	}
	if got := sha256.Sum256(data); got != *p.ix.digest(i) {
		return nil, corrupt(key, sumKey(&got))
	}
	return data, nil
}

// getPacked is Get of a packed blob: found is false when no pack has it.
func (s *Store) getPacked(sum *[sha256.Size]byte, rescan bool, key string) (data []byte, found bool, err error) {
	p, i, ok := s.hold(sum, rescan)
	if !ok {
		return nil, false, nil
	}
	defer s.release(p)
	data, err = readPacked(p, i, key)
	return data, true, err
}

// packedSize returns the size of the packed blob of digest sum.
func (s *Store) packedSize(sum *[sha256.Size]byte) (uint32, bool) {
	p, i, ok := s.hold(sum, false)
	if !ok {
		return 0, false
	}
	defer s.release(p)
	_, n := p.ix.at(i)
	return n, true
}

// EachPacked calls fn with the digest of every blob the store's packs
// hold (a blob in two packs, twice), reading the pack directory afresh;
// not a blob Rewrite named, whose packed copy is corrupt.
func (s *Store) EachPacked(fn func(sum *[sha256.Size]byte)) {
	ps := &s.packs
	ps.mu.Lock()
	s.refreshPacks(true)
	list := slices.Clone(ps.list)
	for _, p := range list {
		p.refs++
	}
	ps.mu.Unlock()
	for _, p := range list {
		for i := range p.ix.count {
			if d := p.ix.digest(i); !s.rewrite[*d] {
				fn(d)
			}
		}
		// The walk read every page of the index; a look-up needs a
		// few. They stay in the page cache, not in this process's
		// resident memory: a pull at 100,000 files peaked 4 MiB higher.
		unix.Madvise(p.ix.data, unix.MADV_DONTNEED)
		s.release(p)
	}
}

// Close lets go of the packs the store read, and of the locks of the
// directories MkdirTemp made that were removed.
func (s *Store) Close() error {
	s.tempMu.Lock()
	s.releaseTempDirs(false)
	s.tempMu.Unlock()
	ps := &s.packs
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for _, p := range ps.list {
		if p.dropped = true; p.refs == 0 {
			p.close()
		}
	}
	ps.list, ps.names, ps.loaded = nil, nil, false
	return nil
}

func (p *storePack) close() {
	p.f.Close()
	unix.Munmap(p.ix.data)
}
