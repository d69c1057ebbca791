package state

import (
	"bufio"
	"bytes"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"trail/apply/kind"
	"trail/internal/atomicfile"
	"trail/stepfmt"
)

// RecordWriter writes an applied record line by line, indexing it as it
// goes: a record made one target at a time, in the order of the list,
// need never be held whole.
type RecordWriter struct {
	w    *bufio.Writer
	off  int64
	ents []recordEnt
	line bytes.Buffer
	sum  uint32 // CRC-32C of what was written, for the record's index
}

// Put writes r's line.
func (w *RecordWriter) Put(r *kind.Record) {
	w.ents = append(w.ents, recordEnt{hashID(r.ID.Kind, r.ID.Target), w.off})
	w.line.Reset()
	writeRecord(&w.line, r)
	w.w.Write(w.line.Bytes())
	w.sum = crc32.Update(w.sum, castagnoli, w.line.Bytes())
	w.off += int64(w.line.Len())
}

// Copy writes the line of id from a as it is there, and reports whether a
// has one.
func (w *RecordWriter) Copy(a *Applied, id stepfmt.ID) bool {
	line, ok := a.Line(id)
	if !ok {
		return false
	}
	w.ents = append(w.ents, recordEnt{hashID(id.Kind, id.Target), w.off})
	w.w.Write(line)
	w.w.WriteByte('\n')
	w.sum = crc32.Update(crc32.Update(w.sum, castagnoli, line), castagnoli, newline)
	w.off += int64(len(line)) + 1
	return true
}

var newline = []byte("\n")

// WriteApplied replaces the applied record file with the one fill writes
// for generation gen, durably (written whole, synced, renamed over the
// old one), then its index, not durably (recordindex.go). fill is given
// room for n targets. It returns the record as written, read on demand
// from the new file, or nil should the file not open again.
func WriteApplied(file string, gen, n int, fill func(*RecordWriter) error) (*Applied, error) {
	w := &RecordWriter{ents: make([]recordEnt, 0, n)}
	head := AppliedHeader + strconv.Itoa(gen) + "\n"
	err := atomicfile.WriteWith(file, stateFileMode, func(out io.Writer) error {
		bw, ok := out.(*bufio.Writer)
		if !ok {
			bw = bufio.NewWriter(out)
		}
		w.w = bw
		w.w.WriteString(head)
		w.sum = crc32.Update(0, castagnoli, []byte(head))
		w.off = int64(len(head))
		if err := fill(w); err != nil {
			return err
		}
		return w.w.Flush()
	})
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, nil
	}
	fi, err := f.Stat()
	if err != nil || fi.Size() != w.off {
		f.Close()
		return nil, nil
	}
	sortEnts(w.ents)
	a := &Applied{Generation: gen, src: f, closer: f, size: w.off, body: int64(len(head)), ents: w.ents,
		unique: distinctHashes(w.ents)}
	if a.unique {
		saveAppliedIndex(file, a, w.sum)
	}
	return a, nil
}

// RemoveAppliedTemps removes the temporary files of the applied record
// (".applied.DIGITS.tmp", atomicfile's names) in the state directory dir:
// the record is written only under the state lock, so one there when the
// lock is taken is a killed writer's. Its index's (".applied.idx.…"),
// which a reader indexing the record writes without the lock, stay.
func RemoveAppliedTemps(dir string) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		if isAppliedTemp(e.Name()) {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// isAppliedTemp reports whether name is one atomicfile gives the applied
// record's temporary file: a random number between the name and the suffix.
func isAppliedTemp(name string) bool {
	mid, ok := strings.CutPrefix(name, "."+FileApplied+".")
	if !ok {
		return false
	}
	mid, ok = strings.CutSuffix(mid, TempSuffix)
	if !ok || mid == "" {
		return false
	}
	return strings.Trim(mid, "0123456789") == ""
}

// CopyApplied replaces the applied record file with the one at file
// recorded as generation gen, its lines copied as they are, and then its
// index, moved by the header's change in length when it was the old
// record's (moveAppliedIndex): a commit that changes no step need not
// cost the next apply a read of the record whole.
func CopyApplied(file string, gen int) error {
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("state: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("state: %w", err)
	}
	r := bufio.NewReaderSize(f, 64<<10)
	oldHead, err := r.ReadString('\n')
	if err != nil {
		return fmt.Errorf("state: %s: %w", file, err)
	}
	head := AppliedHeader + strconv.Itoa(gen) + "\n"
	sums := &twoSums{old: crc32.Update(0, castagnoli, []byte(oldHead)), new: crc32.Update(0, castagnoli, []byte(head))}
	err = atomicfile.WriteWith(file, stateFileMode, func(w io.Writer) error {
		if _, err := io.WriteString(w, head); err != nil {
			return err
		}
		sums.w = w
		_, err := r.WriteTo(sums)
		return err
	})
	if err != nil {
		return fmt.Errorf("state: %w", err)
	}
	moveAppliedIndex(file, fi.Size(), int64(len(oldHead)), sums.old, gen, int64(len(head)), sums.new)
	return nil
}

// twoSums writes to w, keeping the CRC-32C of the old record and of the
// new one, which differ only in their header lines.
type twoSums struct {
	w        io.Writer
	old, new uint32
}

func (t *twoSums) Write(b []byte) (int, error) {
	t.old = crc32.Update(t.old, castagnoli, b)
	t.new = crc32.Update(t.new, castagnoli, b)
	return t.w.Write(b)
}

// RecordFile collects the records an apply makes, written as they come
// to a file of its own in the state directory, unlinked as soon as it is
// made (a crash leaves nothing behind): at 100,000 changes the records
// held until the commit took 35 MB.
type RecordFile struct {
	f    *os.File
	w    *bufio.Writer
	a    Applied
	line bytes.Buffer
}

// NewRecordFile makes an empty record file in dir: one that never has a
// name (O_TMPFILE), or where the file system cannot, one removed as soon
// as it is made.
func NewRecordFile(dir string) (*RecordFile, error) {
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, stateFileMode)
	if err != nil {
		return newRemovedRecordFile(dir)
	}
	return recordFileOn(os.NewFile(uintptr(fd), filepath.Join(dir, ".records"))), nil
}

// newRemovedRecordFile is NewRecordFile where the file system has no
// O_TMPFILE: a crash between the two leaves a temporary file that trail
// fsck reports.
func newRemovedRecordFile(dir string) (*RecordFile, error) {
	f, err := os.CreateTemp(dir, ".records.*"+TempSuffix)
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, fmt.Errorf("state: %w", err)
	}
	return recordFileOn(f), nil
}

func recordFileOn(f *os.File) *RecordFile {
	return &RecordFile{f: f, w: bufio.NewWriterSize(f, 64<<10), a: Applied{src: f}}
}

// Put adds r; of two records of one target, the later one counts.
func (p *RecordFile) Put(r *kind.Record) error {
	p.line.Reset()
	writeRecord(&p.line, r)
	p.a.ents = append(p.a.ents, recordEnt{hashID(r.ID.Kind, r.ID.Target), p.a.size})
	p.a.size += int64(p.line.Len())
	_, err := p.w.Write(p.line.Bytes())
	return err
}

// Records returns what was put, read on demand (Get, Line); nothing may
// be put after it.
func (p *RecordFile) Records() (*Applied, error) {
	if err := p.w.Flush(); err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	sortEnts(p.a.ents)
	p.a.unique = distinctHashes(p.a.ents)
	return &p.a, nil
}

// Close removes the file.
func (p *RecordFile) Close() error { return p.f.Close() }
