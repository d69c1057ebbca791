package gitrepo

import (
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/adler32"
	"io"

	"github.com/go-git/go-git/v5/plumbing"
)

// An object a pack holds whole (not as a delta) is read straight from the
// pack: the entry's header parsed at the offset the index gives, its zlib
// stream inflated by a decompressor the reader keeps, out of a window of
// the pack the reader keeps, into a buffer of exactly the object's size.
// go-git's packfile paid, for each object, a seek and a 4 KiB read, a
// hasher, an object in memory and a cache entry: at 100,000 small files
// that was most of a compile's reading. Git writes a tree's objects in
// the order a walk of it meets them, so the window serves a walk's next
// objects without a read of their own. A delta is left to go-git, whose
// cache keeps its bases; so is what no pack holds (loose objects,
// alternates).

// packWindowSize is how much of a pack a reader reads at once.
const packWindowSize = 64 << 10

// maxInflate bounds how many bytes one byte of a zlib stream inflates to:
// deflate's most is 1032. An entry whose header claims more than what is
// left of the pack inflates to is damaged, and is not allocated.
const maxInflate = 1032

// packTrailer is the pack's checksum at its end, which no entry holds.
const packTrailer = 20

// packWindow is a reader's window onto one of the packs: what it read
// last, and where the next byte is read from. It is a flate.Reader, so
// that the decompressor reads it byte by byte without a buffer of its own.
type packWindow struct {
	f     io.ReaderAt
	pack  int   // the pack's place in the Repo's list; -1 before any
	end   int64 // where the pack's entries end
	buf   []byte
	start int64 // the pack offset of buf[0]
	n     int   // how much of buf holds the pack
	pos   int64 // the next byte's pack offset
}

// at points the window at offset off of pack i.
func (w *packWindow) at(i int, f io.ReaderAt, size, off int64) {
	if w.pack != i || w.f != f {
		w.pack, w.f, w.n = i, f, 0
	}
	w.end, w.pos = size-packTrailer, off
}

// left is how many bytes of entries the pack holds from pos on.
func (w *packWindow) left() int64 { return max(w.end-w.pos, 0) }

func (w *packWindow) fill() error {
	if w.pos >= w.end {
		return io.ErrUnexpectedEOF
	}
	if w.buf == nil {
		w.buf = make([]byte, packWindowSize)
	}
	n, err := w.f.ReadAt(w.buf[:min(int64(len(w.buf)), w.end-w.pos)], w.pos)
	if n == 0 {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	w.start, w.n = w.pos, n
	return nil
}

func (w *packWindow) held() bool { return w.pos >= w.start && w.pos < w.start+int64(w.n) }

func (w *packWindow) ReadByte() (byte, error) {
	if !w.held() {
		if err := w.fill(); err != nil {
			return 0, err
		}
	}
	b := w.buf[w.pos-w.start]
	w.pos++
	return b, nil
}

func (w *packWindow) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if !w.held() {
		if err := w.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(p, w.buf[w.pos-w.start:w.n])
	w.pos += int64(n)
	return n, nil
}

// entryHeader reads the type and size of the entry at the window's
// position, leaving it at the entry's data (a delta's base reference,
// or the zlib stream).
func (w *packWindow) entryHeader() (plumbing.ObjectType, int64, error) {
	c, err := w.ReadByte()
	if err != nil {
		return 0, 0, err
	}
	typ := plumbing.ObjectType(c >> 4 & 7)
	size := int64(c & 15)
	for shift := 4; c&0x80 != 0; shift += 7 {
		if shift > 56 {
			return 0, 0, errors.New("entry size does not fit 64 bits")
		}
		if c, err = w.ReadByte(); err != nil {
			return 0, 0, err
		}
		size |= int64(c&0x7f) << shift
	}
	return typ, size, nil
}

// errDelta marks an entry held as a delta, which go-git reads.
var errDelta = errors.New("delta")

// packedEntry finds h in the packs and points the window at its entry,
// parsing the header; ok is false when no pack holds it. err is errDelta
// for a delta, or says which pack is damaged where.
func (rd *objReader) packedEntry(h plumbing.Hash) (e packEntry, ok bool, err error) {
	for i, p := range rd.r.packs() {
		k, j, found := p.idx.position(h)
		if !found || p.size <= 0 {
			continue
		}
		// A pack repacked away since it was listed (and not opened by
		// this reader) is passed over, as find does.
		f, ferr := rd.file(i, p)
		if ferr != nil {
			continue
		}
		e := packEntry{pack: p}
		if e.off, err = p.idx.offsetAt(k, j); err != nil {
			return e, true, p.damaged(e.off, err)
		}
		rd.win.at(i, f, p.size, e.off)
		e.typ, e.size, err = rd.win.entryHeader()
		switch {
		case err != nil:
			return e, true, p.damaged(e.off, err)
		case e.typ == plumbing.OFSDeltaObject || e.typ == plumbing.REFDeltaObject:
			return e, true, errDelta
		case e.typ < plumbing.CommitObject || e.typ > plumbing.TagObject:
			return e, true, p.damaged(e.off, fmt.Errorf("entry of unknown type %d", e.typ))
		}
		return e, true, nil
	}
	return packEntry{}, false, nil
}

// packEntry is an entry of a pack: where, its type and its size (a
// delta's is the size of the delta).
type packEntry struct {
	pack packIndex
	off  int64
	typ  plumbing.ObjectType
	size int64
}

// packed reads object h whole from the packs when one holds it whole:
// ok is false when none holds it, or one holds it as a delta. An object
// of another type than t (plumbing.AnyObject: any) is not found.
func (rd *objReader) packed(t plumbing.ObjectType, h plumbing.Hash) (data []byte, ok bool, err error) {
	e, ok, err := rd.packedEntry(h)
	if !ok || err == errDelta {
		return nil, false, nil
	}
	if err != nil {
		return nil, true, err
	}
	if t != plumbing.AnyObject && e.typ != t {
		return nil, true, plumbing.ErrObjectNotFound
	}
	if e.size > rd.win.left()*maxInflate {
		return nil, true, e.pack.damaged(e.off, fmt.Errorf("its header claims %d bytes, more than the rest of the pack inflates to", e.size))
	}
	if data, err = rd.inflate(e.size); err != nil {
		return nil, true, e.pack.damaged(e.off, err)
	}
	return data, true, nil
}

// inflate reads the zlib stream at the window's position, which must
// inflate to size bytes exactly.
func (rd *objReader) inflate(size int64) ([]byte, error) {
	w := &rd.win
	var hdr [4]byte
	if _, err := io.ReadFull(w, hdr[:2]); err != nil {
		return nil, err
	}
	// RFC 1950: deflate, a window of at most 32 KiB, no preset
	// dictionary, and the check bits.
	if hdr[0]&0x0f != 8 || hdr[0]>>4 > 7 || hdr[1]&0x20 != 0 || binary.BigEndian.Uint16(hdr[:2])%31 != 0 {
		return nil, errors.New("not a zlib stream")
	}
	if rd.flate == nil {
		rd.flate = flate.NewReader(w)
	} else if err := rd.flate.(flate.Resetter).Reset(w, nil); err != nil {
		return nil, err
	}
	data := make([]byte, size)
	if _, err := io.ReadFull(rd.flate, data); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("inflating %d bytes: %w", size, err)
	}
	if n, err := rd.flate.Read(hdr[:1]); n != 0 || err != io.EOF {
		if err == nil || err == io.EOF {
			err = fmt.Errorf("inflates to more than the %d bytes its header says", size)
		}
		return nil, err
	}
	if _, err := io.ReadFull(w, hdr[:]); err != nil {
		return nil, err
	}
	if binary.BigEndian.Uint32(hdr[:]) != adler32.Checksum(data) {
		return nil, errors.New("zlib checksum mismatch")
	}
	return data, nil
}

// damaged says which pack is damaged where, and what to do.
func (p packIndex) damaged(off int64, err error) error {
	return fmt.Errorf("%s, entry at offset %d: %w: the pack is damaged (git fsck says what it lost; fetch or clone the repository again)", p.path, off, err)
}

// read returns the content of object h of type t (plumbing.AnyObject:
// any): straight from a pack that holds it whole, else through go-git.
func (rd *objReader) read(t plumbing.ObjectType, h plumbing.Hash) ([]byte, error) {
	if data, ok, err := rd.packed(t, h); ok {
		return data, err
	}
	obj, err := rd.object(t, h, nil)
	if err != nil {
		return nil, err
	}
	r, err := obj.Reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	// Exactly the object's size: a buffer's read-ahead slack would cost
	// more than a small file's content, on each of a big tree's files.
	data := make([]byte, obj.Size())
	if _, err := io.ReadFull(r, data); err != nil {
		return nil, err
	}
	return data, nil
}
