package state

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"trail/stepfmt"
)

// indexText is a loaded index file not yet parsed (see Index): the file
// kept open, and where each entry's line starts. Its lines are read as a
// search asks for them, so that a look-up of a few entries costs neither
// a parse of every line nor the file's text in memory.
type indexText struct {
	f *os.File
	// lines[i] is where entry i's line starts; the last element is where
	// the last whole line ends (a line cut short by a torn write is left
	// out).
	lines []int64
	buf   []byte
	// win is a window of the file at winOff, which lineSeq reads lines
	// from: a look at every managed file asks for them mostly in their
	// order, and one read serves many.
	win    []byte
	winOff int64
	// next is the entry after the one found last.
	next int
}

// openIndexText opens the index in file and finds its lines; nil when
// there is none, or its header is damaged, or it has no entry.
func openIndexText(file string) (*indexText, int64) {
	f, err := os.Open(file)
	if err != nil {
		return nil, 0
	}
	r := bufio.NewReaderSize(f, 64<<10)
	head, err := r.ReadSlice('\n')
	v, ok := bytes.CutPrefix(bytes.TrimSuffix(head, []byte("\n")), []byte("TRAIL-INDEX v1 asof="))
	asOf, perr := strconv.ParseInt(string(v), 10, 64)
	if err != nil || !ok || perr != nil {
		f.Close()
		return nil, 0
	}
	t := &indexText{f: f}
	off := int64(len(head))
	t.lines = append(t.lines, off)
	for {
		chunk, err := r.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			off += int64(len(chunk))
			continue
		}
		if err != nil {
			break
		}
		off += int64(len(chunk))
		t.lines = append(t.lines, off)
	}
	if len(t.lines) == 1 {
		f.Close()
		return nil, asOf
	}
	return t, asOf
}

// n is the number of entries' lines.
func (t *indexText) n() int { return len(t.lines) - 1 }

// line returns entry i's line without its newline, valid until the next
// read.
func (t *indexText) line(i int) ([]byte, error) {
	start, end := t.lines[i], t.lines[i+1]
	if int64(cap(t.buf)) < end-start {
		t.buf = make([]byte, end-start)
	}
	b := t.buf[:end-start]
	if _, err := t.f.ReadAt(b, start); err != nil {
		return nil, err
	}
	return b[:len(b)-1], nil
}

// lineSeq is line through the window, for lines read in their order.
func (t *indexText) lineSeq(i int) ([]byte, error) {
	start, end := t.lines[i], t.lines[i+1]
	if start < t.winOff || end > t.winOff+int64(len(t.win)) {
		size := max(64<<10, end-start)
		if int64(cap(t.win)) < size {
			t.win = make([]byte, size)
		}
		n, err := t.f.ReadAt(t.win[:size], start)
		if int64(n) < end-start {
			t.win = t.win[:0]
			if err == nil {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		t.win, t.winOff = t.win[:n], start
	}
	return t.win[start-t.winOff : end-t.winOff-1], nil
}

// find returns entry i's line when it is p's: i is where the entry
// after the one found last is, else where a search finds p.
func (t *indexText) find(p string) ([]byte, bool) {
	if i := t.next; i < t.n() {
		if l, err := t.lineSeq(i); err == nil && linePathIs(l, p) {
			t.next = i + 1
			return l, true
		}
	}
	return nil, false
}

// path returns the path of entry i's line, "" when it cannot be read.
func (t *indexText) path(i int) string {
	l, err := t.line(i)
	if err != nil {
		return ""
	}
	return linePath(l)
}

// linePath returns the path of an entry's line, "" when it is damaged.
func linePath(l []byte) string {
	raw := pathField(l)
	if len(raw) > 0 && raw[0] != '"' {
		return string(raw)
	}
	p, rest, err := stepfmt.ReadValue(string(raw))
	if err != nil || rest != "" {
		return ""
	}
	return p
}

// linePathIs reports whether an entry's line is of path p, without
// making a string of its path when it is not quoted.
func linePathIs(l []byte, p string) bool {
	raw := pathField(l)
	if len(raw) > 0 && raw[0] != '"' {
		return string(raw) == p
	}
	return linePath(l) == p
}

// pathField returns the sixth field of a line and what follows it: the
// path as written; nil when the line has fewer fields.
func pathField(l []byte) []byte {
	for range 5 {
		j := bytes.IndexByte(l, ' ')
		if j < 0 {
			return nil
		}
		l = l[j+1:]
	}
	return l
}

// search returns where p's line is, or would be, among lines sorted by
// path (as Save writes them).
func (t *indexText) search(p string) (int, bool) {
	lo, hi := 0, t.n()
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if strings.Compare(t.path(m), p) < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < t.n() && t.path(lo) == p
}

// copyTo writes the file's bytes from start to end to w as they are
// (the kernel copies them, without their passing through trail).
func (t *indexText) copyTo(w *bufio.Writer, start, end int64) error {
	if end <= start {
		return nil
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if _, err := t.f.Seek(start, io.SeekStart); err != nil {
		return err
	}
	n, err := io.Copy(w, io.LimitReader(t.f, end-start))
	if err == nil && n != end-start {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// parse reads every line, as a load did before.
func (t *indexText) parse() (*Index, error) {
	if _, err := t.f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return parseIndex(bufio.NewReaderSize(io.LimitReader(t.f, t.lines[len(t.lines)-1]), 64<<10), t.n()+1)
}

func (t *indexText) close() {
	if t != nil {
		t.f.Close()
	}
}

// ParseIndex reads the index file; any damage rejects it whole. A path
// given twice keeps its last entry.
func ParseIndex(data []byte) (*Index, error) {
	return parseIndex(bufio.NewReader(bytes.NewReader(data)), bytes.Count(data, []byte("\n")))
}

// parseIndex reads an index of about lines lines from r.
func parseIndex(r *bufio.Reader, lines int) (*Index, error) {
	head, err := r.ReadSlice('\n')
	v, ok := bytes.CutPrefix(bytes.TrimSuffix(head, []byte("\n")), []byte("TRAIL-INDEX v1 asof="))
	asOf, perr := strconv.ParseInt(string(v), 10, 64)
	if err != nil || !ok || perr != nil {
		return nil, errors.New("index: bad header")
	}
	ents := make([]indexEntry, 0, lines)
	ends := make([]uint32, 0, lines)
	var paths strings.Builder
	for line := 2; ; line++ {
		l, err := r.ReadSlice('\n')
		if err == io.EOF && len(l) == 0 {
			break
		}
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("index line %d: %w", line, err)
		}
		e, p, err := parseIndexLine(bytes.TrimSuffix(l, []byte("\n")))
		if err != nil {
			return nil, fmt.Errorf("index line %d: %w", line, err)
		}
		paths.WriteString(p)
		ents = append(ents, e)
		if paths.Len() > math.MaxUint32 {
			return nil, errors.New("index: too large")
		}
		ends = append(ends, uint32(paths.Len()))
	}
	all, start := paths.String(), uint32(0)
	if paths.Cap() > paths.Len()+paths.Len()/4 {
		all = strings.Clone(all)
	}
	for i, end := range ends {
		ents[i].path, start = all[start:end], end
	}
	// Save writes the entries sorted; an index written otherwise is sorted
	// here, the last entry of a path winning.
	if !slices.IsSortedFunc(ents, func(a, b indexEntry) int { return strings.Compare(a.path, b.path) }) {
		slices.SortStableFunc(ents, func(a, b indexEntry) int { return strings.Compare(a.path, b.path) })
	}
	out := ents[:0]
	for i, e := range ents {
		if i+1 < len(ents) && ents[i+1].path == e.path {
			continue
		}
		out = append(out, e)
	}
	return &Index{AsOf: asOf, ents: out}, nil
}

// parseIndexLine parses one entry's line, without its newline; the
// entry's path is left for the caller to set.
func parseIndexLine(l []byte) (indexEntry, string, error) {
	e, rest, err := parseIndexFields(l)
	if err != nil {
		return e, "", err
	}
	p, tail, err := stepfmt.ReadValue(string(rest))
	if err != nil || tail != "" || stepfmt.CheckPath(p) != nil {
		return e, "", errors.New("bad path")
	}
	return e, p, nil
}

// parseIndexFields parses the fields of an entry's line before its path,
// and returns the path as written. The numbers take a loop of digits
// where they are as Save writes them, strconv otherwise: a look-up of
// every file of a tree parses a line each.
func parseIndexFields(l []byte) (indexEntry, []byte, error) {
	var e indexEntry
	var f [5][]byte
	for i := range f {
		j := bytes.IndexByte(l, ' ')
		if j < 0 {
			return e, nil, errors.New("too few fields")
		}
		f[i], l = l[:j], l[j+1:]
	}
	ino, ok1 := decimal(f[0], false)
	size, ok2 := decimal(f[1], true)
	mtime, ok3 := decimal(f[2], true)
	ctime, ok4 := decimal(f[3], true)
	e.ino, e.size, e.mtime, e.ctime = ino, int64(size), int64(mtime), int64(ctime)
	var err error
	if !ok1 || !ok2 || !ok3 || !ok4 {
		var e1, e2, e3, e4 error
		e.ino, e1 = strconv.ParseUint(string(f[0]), 10, 64)
		e.size, e2 = strconv.ParseInt(string(f[1]), 10, 64)
		e.mtime, e3 = strconv.ParseInt(string(f[2]), 10, 64)
		e.ctime, e4 = strconv.ParseInt(string(f[3]), 10, 64)
		err = errors.Join(e1, e2, e3, e4)
	}
	if !lowerHex(e.sum[:], f[4]) {
		err = errors.Join(err, errors.New("not a sha256 of 64 lower-case hex digits"))
	}
	return e, l, err
}

// decimal parses up to 19 digits, after a minus sign when signed, that
// fit in 64 bits (63 when signed); false for anything else, which
// strconv parses (or rejects) instead.
func decimal(b []byte, signed bool) (uint64, bool) {
	neg := signed && len(b) > 1 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	switch {
	case !signed:
		return n, true
	case neg && n <= 1<<63:
		return -n, true
	case !neg && n < 1<<63:
		return n, true
	}
	return 0, false
}

// lowerHexValue maps a lower-case hex digit to its value, anything else
// to 0xff.
var lowerHexValue = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i, c := range "0123456789abcdef" {
		t[c] = byte(i)
	}
	return t
}()

// lowerHex decodes 2*len(dst) lower-case hex digits of src into dst.
func lowerHex(dst, src []byte) bool {
	if len(src) != 2*len(dst) {
		return false
	}
	bad := byte(0)
	for i := range dst {
		hi, lo := lowerHexValue[src[2*i]], lowerHexValue[src[2*i+1]]
		bad |= hi | lo
		dst[i] = hi<<4 | lo&0xf
	}
	return bad&0xf0 == 0
}
