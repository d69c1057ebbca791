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
	"strings"
	"time"
)

// A pack gc keeps is rewritten without its dead blobs once more than
// 1/packDeadShare of its bytes are dead: a rewrite copies the live bytes,
// so it waits until it frees a good part of them. Past packsMerge packs,
// the small ones (under packSmall bytes) are rewritten into one with it,
// so that a store a long history of applies made does not look a blob up
// in hundreds of indexes.
const (
	packDeadShare = 4
	packsMerge    = 8
	packSmall     = 16 << 20
)

// gcPack is an indexed pack gc looked at.
type gcPack struct {
	*storePack
	size, idxSize int64 // the files' sizes
	live          int   // blobs need names
	liveBytes     int64
}

// sweepPacks removes from the packs in store/pack (dir) the blobs need
// lacks, counting into res what it removed (or, with dryRun, would) and
// kept: a pack none of whose blobs are needed is removed; one with many
// dead bytes (packDeadShare), and the small ones when there are many
// (packsMerge), are rewritten into one new pack of their live blobs,
// made durable before the old ones are removed, so that a crash leaves a
// blob in two packs, never in none. A pack younger than young is left
// whole, as a young blob is; a damaged one is fsck's to report.
func sweepPacks(dir string, need *needSet, young time.Time, dryRun bool, res *GCResult) error {
	names, err := readNames(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var packs, redo []*gcPack
	defer func() {
		for _, p := range packs {
			p.close()
		}
	}()
	for _, n := range names {
		base, ok := strings.CutSuffix(n, indexSuffix)
		if !ok {
			continue
		}
		sp, err := openPack(filepath.Join(dir, base), false)
		if err != nil {
			continue
		}
		p := &gcPack{storePack: sp}
		packs = append(packs, p)
		fi, err := p.f.Stat()
		if err != nil {
			return err
		}
		p.size = fi.Size()
		if fi, err := os.Stat(p.name + indexSuffix); err == nil {
			p.idxSize = fi.Size()
		}
		if fi.ModTime().After(young) {
			res.KeptBlobs += p.ix.count
			continue
		}
		for i := range p.ix.count {
			if _, ok := need.keys[*p.ix.digest(i)]; ok {
				_, n := p.ix.at(i)
				p.live++
				p.liveBytes += int64(n)
			}
		}
		switch dead := p.size - int64(len(packMagic)) - p.liveBytes; {
		case p.live == 0:
			res.Blobs += p.ix.count
			res.BlobBytes += p.size + p.idxSize
			if !dryRun {
				if err := removePack(p.name); err != nil {
					return err
				}
			}
		case dead*packDeadShare > p.size:
			redo = append(redo, p)
		default:
			p.liveBytes = -1 // kept as it is
			res.KeptBlobs += p.ix.count
		}
	}
	kept := 0
	for _, p := range packs {
		if p.liveBytes < 0 || p.live > 0 {
			kept++
		}
	}
	if kept > packsMerge {
		for _, p := range packs {
			if p.liveBytes < 0 && p.size < packSmall {
				res.KeptBlobs -= p.ix.count
				p.liveBytes = p.size - int64(len(packMagic))
				p.live = p.ix.count
				redo = append(redo, p)
			}
		}
	}
	if len(redo) < 2 && (len(redo) == 0 || redo[0].live == redo[0].ix.count) {
		for _, p := range redo {
			res.KeptBlobs += p.ix.count
		}
		return nil
	}
	return rewritePacks(dir, redo, need, dryRun, res)
}

// removePack removes a pack's index, then its data: a crash between
// leaves a pack without index, a leftover.
func removePack(name string) error {
	if err := os.Remove(name + indexSuffix); err != nil {
		return err
	}
	at("old index removed")
	if err := os.Remove(name + packSuffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// rewritePacks writes the needed blobs of packs (all of those of a pack
// taken whole, live == count) to one new pack, verified as they are
// copied, makes it and its index durable and in place, then removes the
// old packs. A dry run reads and verifies as much, so that it counts what
// the gc would, and writes nothing.
func rewritePacks(dir string, packs []*gcPack, need *needSet, dryRun bool, res *GCResult) error {
	var old, oldBlobs int64
	var live []packEntry
	for _, p := range packs {
		old += p.size + p.idxSize
		oldBlobs += int64(p.ix.count)
		for i := range p.ix.count {
			if _, ok := need.keys[*p.ix.digest(i)]; ok || p.live == p.ix.count {
				_, n := p.ix.at(i)
				live = append(live, packEntry{sum: *p.ix.digest(i), n: n})
			}
		}
	}
	live = sortEntries(live)
	var f *os.File
	var w *bufio.Writer
	var name string
	done, named := false, false
	if !dryRun {
		// Locked for a fsck meanwhile; no trail removes it: gc holds
		// the state lock.
		var err error
		if name, f, named, err = createPack(dir); err != nil {
			return err
		}
		defer func() {
			f.Close()
			if !done && named {
				os.Remove(name + packSuffix)
			}
		}()
		w = bufio.NewWriterSize(f, 256<<10)
		w.WriteString(packMagic)
	}
	off := int64(len(packMagic))
	var buf []byte
	out := live[:0]
	for _, e := range live {
		p, i := findIn(packs, &e.sum)
		o, n := p.ix.at(i)
		if cap(buf) < int(n) {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		if _, err := p.f.ReadAt(buf, o); err != nil {
			return fmt.Errorf("%s: %w: run 'trail fsck'", p.name+packSuffix, err)
		}
		if sha256.Sum256(buf) != e.sum {
			if _, err := (&Store{Dir: filepath.Dir(dir)}).getOwn(sumKey(&e.sum)); err == nil {
				// A good file of its own keeps the content: the bad
				// copy is dropped, and counted as removed.
				continue
			}
			return fmt.Errorf("%w: gc rewrites no pack with a damaged blob: run 'trail fsck'", corrupt(sumKey(&e.sum), "other bytes"))
		}
		if !dryRun {
			if _, err := w.Write(buf); err != nil {
				return err
			}
		}
		out = append(out, packEntry{sum: e.sum, off: off, n: n})
		off += int64(n)
	}
	// Counted from what is copied, not what is needed: a bad copy
	// dropped is a blob removed, and its bytes are freed.
	newIdx := int64(idxHeader + idxFanout + len(out)*idxEntry + idxTrailer)
	res.KeptBlobs += len(out)
	res.Blobs += int(oldBlobs) - len(out)
	res.BlobBytes += max(old-off-newIdx, 0)
	if dryRun {
		return nil
	}
	if err := w.Flush(); err != nil {
		return err
	}
	idx, err := writeIndexTemp(filepath.Join(filepath.Dir(dir), "tmp"), out, off)
	if err != nil {
		return err
	}
	defer idx.close()
	if err := f.Sync(); err != nil {
		return err
	}
	if named, err = linkPack(name, f, named); err != nil {
		return err
	}
	if exist, err := idx.place(name + indexSuffix); err != nil || exist {
		return cmp.Or(err, fmt.Errorf("%s: a pack's index is there already", name+indexSuffix))
	}
	done = true
	if err := fsyncPath(dir); err != nil {
		return err
	}
	at("rewritten")
	for _, p := range packs {
		if err := removePack(p.name); err != nil {
			return err
		}
	}
	return nil
}

// findIn returns the pack of packs, and the entry, that hold digest sum.
func findIn(packs []*gcPack, sum *[sha256.Size]byte) (*gcPack, int) {
	for _, p := range packs {
		if i := p.ix.find(sum); i >= 0 {
			return p, i
		}
	}
	panic("state: gc: a blob of the packs rewritten is in none of them")
}

// writeIndexTemp writes the index of ents for a pack of size bytes to a
// temporary file in tmp (tempFile), durably.
func writeIndexTemp(tmp string, ents []packEntry, size int64) (*tempFile, error) {
	tf, err := newTempFile(tmp, "index")
	if err != nil {
		return nil, err
	}
	w := bufio.NewWriterSize(tf.f, 64<<10)
	err = writeIndex(w, ents, size)
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = tf.f.Sync()
	}
	if err != nil {
		tf.close()
		return nil, err
	}
	return tf, nil
}
