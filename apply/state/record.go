package state

import (
	"bufio"
	"bytes"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"trail/apply/kind"
	"trail/stepfmt"
)

// Applied is the applied record, read on demand: the file it was read
// from stays open, and only a sorted index of its targets' identities
// (a hash and the line's offset, 16 bytes a target) is held; a record is
// parsed when Get asks for it. The record of 100,000 targets parsed whole
// took about 40 MB; its index takes 1.6.
type Applied struct {
	Generation int
	src        io.ReaderAt
	closer     io.Closer
	size       int64
	body       int64       // where the first record's line starts
	ents       []recordEnt // sorted by hash, then offset
	// win is a window of src at winOff: records are mostly asked for in
	// the order of their lines, so one read serves many.
	win    []byte
	winOff int64
	buf    []byte
	// last is the record Get parsed last, at lastOff: one change asks
	// for its record several times in a row.
	last    *kind.Record
	lastOff int64
	// next is where the line after the one found last starts: records
	// are mostly asked for in the order of their lines, and the line
	// there is looked at before the index (a search of 100,000 entries
	// misses the cache at each step). Only where no target is recorded
	// twice (unique), so that it cannot find an earlier one of two.
	next   int64
	unique bool
	err    error
}

// recordEnt is one target of the record: the hash of its identity and
// where its line starts.
type recordEnt struct {
	hash uint64
	off  int64
}

// hashID hashes an identity: FNV-1a of the kind, a zero byte and the
// target. It is fixed, not seeded per process, since the record's index
// is kept on disk (recordindex.go); two identities of one hash are told
// apart by their lines.
func hashID(k stepfmt.Kind, target string) uint64 {
	const prime = 1099511628211
	h := uint64(14695981039346656037)
	for i := 0; i < len(k); i++ {
		h = (h ^ uint64(k[i])) * prime
	}
	h *= prime
	for i := 0; i < len(target); i++ {
		h = (h ^ uint64(target[i])) * prime
	}
	return h
}

func compareEnt(a, b recordEnt) int {
	if c := cmp.Compare(a.hash, b.hash); c != 0 {
		return c
	}
	return cmp.Compare(a.off, b.off)
}

// sortEnts sorts entries appended in the order of their offsets by hash,
// then offset: a stable radix sort of the hashes, a byte at a time,
// keeps the offsets' order among equal hashes. A comparison sort of
// 100,000 entries took 10 ms of an apply's commit; this takes about 2.
func sortEnts(ents []recordEnt) {
	if len(ents) < 256 {
		slices.SortFunc(ents, compareEnt)
		return
	}
	src, dst := ents, make([]recordEnt, len(ents))
	for shift := 0; shift < 64; shift += 8 {
		var at [256]int
		for _, e := range src {
			at[byte(e.hash>>shift)]++
		}
		n := 0
		for i, c := range at {
			at[i], n = n, n+c
		}
		for _, e := range src {
			b := byte(e.hash >> shift)
			dst[at[b]] = e
			at[b]++
		}
		src, dst = dst, src
	}
	// Eight passes leave the entries where they started.
}

// Len returns the number of targets recorded.
func (a *Applied) Len() int { return len(a.ents) }

// Err returns the first error reading a record on demand (Get, Has): the
// file failed to read, which Get can only report as no record.
func (a *Applied) Err() error { return a.err }

// Close lets go of the file the record is read from.
func (a *Applied) Close() error {
	if a == nil || a.closer == nil {
		return nil
	}
	c := a.closer
	a.closer, a.src = nil, nil
	return c.Close()
}

// Get returns the record of the target with identity id, nil for none
// (the last, should two records have it). It parses the record's line
// afresh, but for the one it returned last, which it returns again.
func (a *Applied) Get(id stepfmt.ID) *kind.Record {
	line, off, ok := a.find(id)
	if !ok {
		return nil
	}
	if a.last != nil && a.lastOff == off {
		return a.last
	}
	r, err := parseRecord(string(line))
	if err != nil {
		a.fail(fmt.Errorf("the applied record changed while it was read: %w", err))
		return nil
	}
	a.last, a.lastOff = r, off
	return r
}

// Has reports whether a target of identity id is recorded, without
// parsing its record.
func (a *Applied) Has(id stepfmt.ID) bool {
	_, _, ok := a.find(id)
	return ok
}

// Line returns the text of id's record, without its newline, valid until
// the record is next read.
func (a *Applied) Line(id stepfmt.ID) ([]byte, bool) {
	line, _, ok := a.find(id)
	return line, ok
}

// find returns the line of id's record and its offset; the last of
// several.
func (a *Applied) find(id stepfmt.ID) ([]byte, int64, bool) {
	if a.unique && a.next >= a.body && a.next < a.size {
		if line, err := a.lineAt(a.next); err == nil && lineIs(line, id) {
			at := a.next
			a.next += int64(len(line)) + 1
			return line, at, true
		}
	}
	line, at, ok := a.search(id)
	if ok {
		a.next = at + int64(len(line)) + 1
	}
	return line, at, ok
}

// search finds id's line through the index.
func (a *Applied) search(id stepfmt.ID) ([]byte, int64, bool) {
	h := hashID(id.Kind, id.Target)
	i, _ := slices.BinarySearchFunc(a.ents, recordEnt{hash: h}, compareEnt)
	var found []byte
	var at int64
	ok, seen := false, 0
	for ; i < len(a.ents) && a.ents[i].hash == h; i++ {
		line, err := a.lineAt(a.ents[i].off)
		if err != nil {
			a.fail(err)
			return nil, 0, false
		}
		if seen++; lineIs(line, id) {
			found, at, ok = line, a.ents[i].off, true
		}
	}
	if ok && seen > 1 {
		// Another line of the same hash may have moved the window.
		found, _ = a.lineAt(at)
	}
	return found, at, ok
}

// lineIs reports whether a record's line is of the target id.
func lineIs(line []byte, id stepfmt.ID) bool {
	k, rest, ok := bytes.Cut(line, []byte("\t"))
	if !ok || string(k) != string(id.Kind) {
		return false
	}
	t, _, ok := bytes.Cut(rest, []byte("\t"))
	if !ok {
		return false
	}
	if len(t) == 0 || t[0] != '"' {
		return string(t) == id.Target
	}
	v, tail, err := stepfmt.ReadValue(string(t))
	return err == nil && tail == "" && v == id.Target
}

func (a *Applied) fail(err error) {
	if a.err == nil {
		a.err = fmt.Errorf("state: %w", err)
	}
}

// lineAt returns the line that starts at off, without its newline, from
// the window, read afresh (and larger, for a long line) when it does not
// hold it whole.
func (a *Applied) lineAt(off int64) ([]byte, error) {
	size := 64 << 10
	for {
		end := a.winOff + int64(len(a.win))
		if off >= a.winOff && off < end {
			rest := a.win[off-a.winOff:]
			if i := bytes.IndexByte(rest, '\n'); i >= 0 {
				return rest[:i], nil
			}
			if end >= a.size {
				return rest, nil
			}
			if a.winOff == off {
				size = 2 * len(a.win)
			}
		}
		if a.src == nil || off >= a.size {
			return nil, fmt.Errorf("the applied record has no line at byte %d", off)
		}
		if cap(a.buf) < size {
			a.buf = make([]byte, size)
		}
		n, err := a.src.ReadAt(a.buf[:size], off)
		if err != nil && err != io.EOF {
			return nil, err
		}
		if n == 0 {
			return nil, io.ErrUnexpectedEOF
		}
		if n < size && off+int64(n) < a.size {
			// The file ends before it did when it was read: no read
			// after this one would find more.
			return nil, io.ErrUnexpectedEOF
		}
		a.win, a.winOff = a.buf[:n], off
	}
}

// Each calls fn with every record, in the order of the record's lines.
func (a *Applied) Each(fn func(*kind.Record) error) error {
	if a.src == nil {
		return nil
	}
	r := bufio.NewReaderSize(io.NewSectionReader(a.src, a.body, a.size-a.body), 64<<10)
	for {
		l, err := r.ReadString('\n')
		if err == io.EOF && l == "" {
			return nil
		}
		if err != nil && err != io.EOF {
			return fmt.Errorf("state: %w", err)
		}
		rec, err := parseRecord(strings.TrimSuffix(l, "\n"))
		if err != nil {
			return fmt.Errorf("state: the applied record changed while it was read: %w", err)
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
}

const AppliedHeader = "TRAIL-APPLIED v1 generation="

// Format renders the record: a header, then one line per target with tab
// separated fields: kind, target, drift policy, origin image, wrote image.
func (a *Applied) Format() []byte {
	var b bytes.Buffer
	b.WriteString(AppliedHeader)
	b.WriteString(strconv.Itoa(a.Generation))
	b.WriteByte('\n')
	bw := bufio.NewWriter(&b)
	a.Each(func(r *kind.Record) error { writeRecord(bw, r); return nil })
	bw.Flush()
	return b.Bytes()
}

// writeRecord writes r's line, newline and all.
func writeRecord(w interface {
	io.Writer
	io.StringWriter
	io.ByteWriter
}, r *kind.Record) {
	w.WriteString(string(r.ID.Kind))
	w.WriteByte('\t')
	w.WriteString(stepfmt.QuoteValue(r.ID.Target))
	w.WriteByte('\t')
	w.WriteString(r.Policy)
	w.WriteByte('\t')
	r.Origin.Render(w)
	w.WriteByte('\t')
	r.Wrote.Render(w)
	w.WriteByte('\n')
}
