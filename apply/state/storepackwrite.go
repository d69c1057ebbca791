package state

import (
	"bufio"
	"cmp"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// packWriter is the pack a staging appends small blobs to until Flush.
type packWriter struct {
	name  string
	f     *os.File
	named bool // f has its name (createPack)
	w     *bufio.Writer
	off   int64
	ents  entrySpill
	// indexed is how many entries the index written holds.
	indexed int
}

// crashPoint, when set (by tests), is called at the points of a flush
// and of a gc's rewrite of packs where a crash leaves something to
// recover from.
var crashPoint func(point string)

func at(point string) {
	if crashPoint != nil {
		crashPoint(point)
	}
}

// packAppend appends blob b of digest sum to the pack being written,
// starting one when there is none.
func (s *Store) packAppend(b []byte, sum *[sha256.Size]byte) error {
	if s.pw == nil {
		if err := s.startPack(); err != nil {
			return err
		}
	}
	pw := s.pw
	// The entry first: data without one shifts every later offset; a
	// write failing after it fails the flush (bufio keeps the error).
	if err := pw.ents.add(sum, uint32(len(b))); err != nil {
		return err
	}
	if _, err := pw.w.Write(b); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	s.markStaged(sum, packRef(pw.ents.n-1))
	pw.off += int64(len(b))
	if pw.ents.n == 100 {
		at("packing")
	}
	return nil
}

// startPack starts a pack (createPack) for the staging.
func (s *Store) startPack() error {
	for try := 0; ; try++ {
		name, f, named, err := createPack(s.packDir())
		if errors.Is(err, fs.ErrNotExist) && try == 0 {
			// A store made before packs: its directory comes now.
			if err = mkdirDurable(s.packDir()); err == nil {
				continue
			}
		}
		if err != nil {
			return fmt.Errorf("store: %w", err)
		}
		s.pw = &packWriter{name: name, f: f, named: named, w: bufio.NewWriterSize(f, 256<<10), off: int64(len(packMagic)),
			ents: entrySpill{dir: filepath.Join(s.Dir, "tmp")}}
		if _, err := s.pw.w.WriteString(packMagic); err != nil {
			return fmt.Errorf("store: %w", err)
		}
		return nil
	}
}

// createPack makes the file of a new pack in dir, to be named name (its
// writer's pid and the time) and name+packSuffix: one with no name
// (O_TMPFILE), linked there once whole and durable (linkPack), so that a
// writer killed before leaves nothing; or where the file system cannot,
// made there at once. Either is locked as its writer's (lockPack) until
// its index is in place.
func createPack(dir string) (name string, f *os.File, named bool, err error) {
	for try := 0; ; try++ {
		name = filepath.Join(dir, strconv.Itoa(pid)+"."+strconv.FormatInt(time.Now().UnixNano(), 36))
		if !noTmpfile && procFD() {
			fd, err := unix.Open(dir, unix.O_RDWR|unix.O_TMPFILE|unix.O_CLOEXEC, 0o600)
			if err == nil {
				// No other process can open it to take the lock first.
				unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
				return name, os.NewFile(uintptr(fd), name+packSuffix), false, nil
			}
			if err != unix.EOPNOTSUPP && err != unix.EISDIR && err != unix.EINVAL {
				return "", nil, false, &fs.PathError{Op: "open", Path: dir, Err: err}
			}
		}
		f, err := os.OpenFile(name+packSuffix, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) && try < 10 {
			continue
		}
		if err != nil {
			return "", nil, false, err
		}
		if lockPack(f) {
			return name, f, true, nil
		}
		f.Close()
		if try == 10 {
			return "", nil, false, fmt.Errorf("%s was removed as it was made, ten times over", name+packSuffix)
		}
	}
}

// linkPack gives pack file f, made by createPack and now whole and
// durable, its name, when it has none yet: before its index is put in
// place, which makes it part of the store. It reports whether f has it.
func linkPack(name string, f *os.File, named bool) (bool, error) {
	if named {
		return true, nil
	}
	if exist, err := (&tempFile{f: f}).place(name + packSuffix); err != nil || exist {
		return false, cmp.Or(err, fmt.Errorf("store: %s: a pack is there already", name+packSuffix))
	}
	return true, nil
}

// finishPack writes out the pack's data and its index to a temporary
// file (tempFile), which it returns; neither is synced yet.
func (s *Store) finishPack() (*tempFile, error) {
	pw := s.pw
	if err := pw.w.Flush(); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	ents, err := pw.ents.all(int64(len(packMagic)))
	if err != nil {
		return nil, err
	}
	ents = sortEntries(ents)
	pw.indexed = len(ents)
	tf, err := newTempFile(filepath.Join(s.Dir, "tmp"), "index")
	if err != nil {
		return nil, err
	}
	w := bufio.NewWriterSize(tf.f, 64<<10)
	err = writeIndex(w, ents, pw.off)
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		tf.close()
		return nil, fmt.Errorf("store: %w", err)
	}
	return tf, nil
}

// dropPack removes the pack being written, which no index names.
func (s *Store) dropPack() {
	if s.pw == nil {
		return
	}
	s.pw.f.Close()
	s.pw.ents.close()
	if s.pw.named {
		os.Remove(s.pw.name + packSuffix)
	}
	s.pw = nil
}

// RemoveUnindexedPacks removes the packs of store/pack that have no index
// and whose writer is gone (packWriterGone): what a staging killed before
// its flush (or in it, before the index was in place) left. It is run
// with the state lock held, as removing store/tmp's leftovers is.
func (s *Store) RemoveUnindexedPacks() {
	names, err := readNames(s.packDir())
	if err != nil {
		return
	}
	have := map[string]bool{}
	for _, n := range names {
		have[n] = true
	}
	for _, n := range names {
		base, ok := strings.CutSuffix(n, packSuffix)
		if !ok || have[base+indexSuffix] {
			continue
		}
		packWriterGone(filepath.Join(s.packDir(), n), true)
	}
}

// placePack puts the index of the pack written (durable, as is the
// pack) in place, which makes the pack part of the store, and adds it
// to the packs the store reads.
func (s *Store) placePack(idxTmp *tempFile) error {
	pw := s.pw
	var err error
	if pw.named, err = linkPack(pw.name, pw.f, pw.named); err != nil {
		return err
	}
	idx := pw.name + indexSuffix
	if exist, err := idxTmp.place(idx); err != nil || exist {
		return cmp.Or(err, fmt.Errorf("store: %s: a pack's index is there already", idx))
	}
	s.pw = nil // in place: not for an Abort to remove
	pw.ents.close()
	// Written: no longer a leftover to its writer's lock, but a gc's.
	unix.Flock(int(pw.f.Fd()), unix.LOCK_UN)
	s.added += pw.off + int64(idxHeader+idxFanout+pw.indexed*idxEntry+idxTrailer)
	ix, err := mapIndex(idx, false)
	if err != nil {
		pw.f.Close()
		return fmt.Errorf("store: the pack just written: %w", err)
	}
	ps := &s.packs
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if !ps.loaded {
		s.refreshPacks(true)
		if ps.names[filepath.Base(pw.name)] {
			unix.Munmap(ix.data)
			pw.f.Close()
			return nil
		}
	}
	ps.add(&storePack{name: pw.name, ix: ix, f: pw.f})
	// Each flush also lets go of the packs a gc removed since the last.
	s.refreshPacks(false)
	return nil
}
