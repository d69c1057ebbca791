package state

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// entSize is a spilled pack entry: the digest and the length (big-endian
// uint32); the offset follows from the lengths before it.
const entSize = sha256.Size + 4

// entBuf is how many bytes of entries are held before they are written
// out: 1,820 of them.
const entBuf = 64 << 10 / entSize * entSize

// entrySpill is a pack's entries in the order their blobs were appended,
// written to an unlinked file in dir a buffer at a time rather than held
// until the flush sorts them into the index: held, they were 4.8 to 9.6 MB
// of a 100,000-file first apply's live heap at its compile's peak.
type entrySpill struct {
	dir string
	f   *os.File // made at the first buffer written out
	buf []byte
	n   int // entries added
	out int // of them, written to f
}

// add appends the entry of a blob of digest sum and n bytes.
func (e *entrySpill) add(sum *[sha256.Size]byte, n uint32) error {
	if len(e.buf)+entSize > entBuf {
		if err := e.writeOut(); err != nil {
			return err
		}
	}
	if e.buf == nil {
		e.buf = make([]byte, 0, entBuf)
	}
	e.buf = append(e.buf, sum[:]...)
	e.buf = binary.BigEndian.AppendUint32(e.buf, n)
	e.n++
	return nil
}

// writeOut writes the buffer to the file, making it first.
func (e *entrySpill) writeOut() error {
	if e.f == nil {
		f, err := spillFile(e.dir)
		if err != nil {
			return err
		}
		e.f = f
	}
	if _, err := e.f.WriteAt(e.buf, int64(e.out)*entSize); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	e.out += len(e.buf) / entSize
	e.buf = e.buf[:0]
	return nil
}

// isDigest reports whether entry i's digest is sum; false when it cannot
// be read (the blob is then staged again, which costs room only).
func (e *entrySpill) isDigest(i int, sum *[sha256.Size]byte) bool {
	var b [sha256.Size]byte
	switch {
	case i < 0 || i >= e.n:
		return false
	case i >= e.out:
		copy(b[:], e.buf[(i-e.out)*entSize:])
	default:
		if _, err := e.f.ReadAt(b[:], int64(i)*entSize); err != nil {
			return false
		}
	}
	return b == *sum
}

// all returns every entry, in the order added, with its offset in a pack
// whose first blob is at first.
func (e *entrySpill) all(first int64) ([]packEntry, error) {
	ents := make([]packEntry, 0, e.n)
	add := func(b []byte) {
		for ; len(b) >= entSize; b = b[entSize:] {
			n := binary.BigEndian.Uint32(b[sha256.Size:])
			ents = append(ents, packEntry{sum: [sha256.Size]byte(b), off: first, n: n})
			first += int64(n)
		}
	}
	if e.out > 0 {
		r := io.NewSectionReader(e.f, 0, int64(e.out)*entSize)
		chunk := make([]byte, entBuf)
		for {
			k, err := io.ReadFull(r, chunk)
			add(chunk[:k])
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("store: the pack's entries: %w", err)
			}
		}
	}
	add(e.buf)
	if len(ents) != e.n {
		return nil, fmt.Errorf("store: the pack's entries: %d read back of %d", len(ents), e.n)
	}
	return ents, nil
}

// spillFile makes a file in dir that has no name: O_TMPFILE, so a trail
// killed at any point leaves nothing, whatever its pid becomes to the
// next. Where the file system takes no O_TMPFILE, a file named by the pid
// (which cleanStoreTemp removes once no process has it) and unlinked
// at once.
func spillFile(dir string) (*os.File, error) {
	fd, err := unix.Open(dir, unix.O_RDWR|unix.O_TMPFILE|unix.O_CLOEXEC, 0o600)
	if err == nil {
		return os.NewFile(uintptr(fd), filepath.Join(dir, "pack-entries")), nil
	}
	if err != unix.EOPNOTSUPP && err != unix.EISDIR && err != unix.EINVAL {
		return nil, fmt.Errorf("store: %w", &fs.PathError{Op: "open", Path: dir, Err: err})
	}
	f, err := os.CreateTemp(dir, strconv.Itoa(pid)+".pack-entries-")
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	os.Remove(f.Name())
	return f, nil
}

// close lets go of the file.
func (e *entrySpill) close() {
	if e.f != nil {
		e.f.Close()
		e.f = nil
	}
	e.buf = nil
}
