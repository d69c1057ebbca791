package state

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"trail/apply/kind"
	"trail/internal/atomicfile"
	"trail/internal/fsx"
	"trail/stepfmt"
)

// RacyWindow is how close to the moment the index was written a file's
// ctime may be and still be trusted. File times come from a coarse clock,
// so a file changed just after it was hashed can keep the same times; as
// git does with its index, such "racily clean" entries are hashed again.
const RacyWindow = 50 * time.Millisecond

// Index remembers, per managed file, the stat it had when it was hashed
// (inode, size, mtime, ctime) and the hash, so that a drift check reads
// only the files whose stat changed. It is a cache: a damaged or missing
// Index costs re-hashing, never a wrong answer.
//
// It holds one small fixed entry a file, sorted by path and found by
// binary search, with the paths of a loaded index in one string: an
// index of 100,000 files is about 12 MB, where a map of entries was 35.
// What Put adds since is found through a map until there are enough of
// it to merge into the sorted entries.
type Index struct {
	File  string
	AsOf  int64 // when the loaded index was written, in ns
	Dirty bool
	ents  []indexEntry     // sorted by path, one per path
	added []indexEntry     // put since the last merge, in no order
	at    map[string]int32 // path -> place in added
}

// IndexEntry is the stat a file had when it was hashed, and the hash.
type IndexEntry struct {
	Ino          uint64
	Size         int64
	Mtime, Ctime int64
	Key          string
}

type indexEntry struct {
	path         string
	ino          uint64
	size         int64
	mtime, ctime int64
	sum          [32]byte
	fresh        bool // hashed by this process, not loaded
	marked       bool // named by Mark since the last KeepMarked
}

func (e *indexEntry) public() IndexEntry {
	return IndexEntry{Ino: e.ino, Size: e.size, Mtime: e.mtime, Ctime: e.ctime, Key: "sha256:" + hex.EncodeToString(e.sum[:])}
}

// minMerge is the least number of added entries that make a merge; more
// than a quarter of the sorted ones make one too, so that merging costs
// O(n log n) in all.
const minMerge = 4096

// LoadIndex reads the index in file; a missing or damaged one is empty.
// It reads the file line by line: only the entries stay.
func LoadIndex(file string) *Index {
	f, err := os.Open(file)
	if err != nil {
		return &Index{File: file}
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	lines := 0
	for {
		chunk, err := r.ReadSlice('\n')
		lines += bytes.Count(chunk, []byte("\n"))
		if err != nil && err != bufio.ErrBufferFull {
			break
		}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return &Index{File: file}
	}
	r.Reset(f)
	ix, err := parseIndex(r, lines)
	if err != nil {
		return &Index{File: file}
	}
	ix.File = file
	return ix
}

// Len returns how many files the index has an entry for.
func (ix *Index) Len() int {
	ix.merge()
	return len(ix.ents)
}

// Entry returns the entry of p.
func (ix *Index) Entry(p string) (IndexEntry, bool) {
	e := ix.find(p)
	if e == nil {
		return IndexEntry{}, false
	}
	return e.public(), true
}

// Set replaces the entry of p with e, as loaded (not fresh).
func (ix *Index) Set(p string, e IndexEntry) error {
	ne, err := newEntry(p, e.Ino, e.Size, e.Mtime, e.Ctime, e.Key)
	if err != nil {
		return err
	}
	ix.put(ne)
	return nil
}

func (ix *Index) find(p string) *indexEntry {
	if i, ok := ix.at[p]; ok {
		return &ix.added[i]
	}
	i, ok := slices.BinarySearchFunc(ix.ents, p, func(e indexEntry, p string) int { return strings.Compare(e.path, p) })
	if !ok {
		return nil
	}
	return &ix.ents[i]
}

// Lookup returns the hash of p when its stat is the one recorded.
func (ix *Index) Lookup(p string, st fsx.Stat) (string, bool) {
	e := ix.find(p)
	if e == nil || e.ino != st.Ino || e.size != st.Size || e.mtime != st.Mtime || e.ctime != st.Ctime {
		return "", false
	}
	if !e.fresh && e.ctime >= ix.AsOf-int64(RacyWindow) {
		return "", false
	}
	return "sha256:" + hex.EncodeToString(e.sum[:]), true
}

// Put records the hash of p with the stat it was taken at.
func (ix *Index) Put(p string, st fsx.Stat, key string) {
	e, err := newEntry(p, st.Ino, st.Size, st.Mtime, st.Ctime, key)
	if err != nil {
		return // not a content key: the file is hashed again next time
	}
	e.fresh = true
	ix.put(e)
}

// Reserve makes room for n more entries, so that the merges of an apply
// that puts them do not grow the sorted entries again and again (at
// 100,000 new files the arrays they left behind held 8 MB more).
func (ix *Index) Reserve(n int) {
	ix.ents = slices.Grow(ix.ents, n)
}

func newEntry(p string, ino uint64, size, mtime, ctime int64, key string) (indexEntry, error) {
	e := indexEntry{path: p, ino: ino, size: size, mtime: mtime, ctime: ctime}
	if err := kind.CheckKey(key); err != nil {
		return e, err
	}
	hex.Decode(e.sum[:], []byte(key[len("sha256:"):]))
	return e, nil
}

func (ix *Index) put(e indexEntry) {
	ix.Dirty = true
	if i, ok := ix.at[e.path]; ok {
		ix.added[i] = e
		return
	}
	if i, ok := slices.BinarySearchFunc(ix.ents, e.path, func(x indexEntry, p string) int { return strings.Compare(x.path, p) }); ok {
		ix.ents[i] = e
		return
	}
	if ix.at == nil {
		ix.at = make(map[string]int32)
	}
	ix.at[e.path] = int32(len(ix.added))
	ix.added = append(ix.added, e)
	if len(ix.added) >= max(minMerge, len(ix.ents)/4) {
		ix.merge()
	}
}

// merge moves the added entries into the sorted ones, in place from the
// back: none of them is among the sorted ones (put replaces those).
func (ix *Index) merge() {
	if len(ix.added) == 0 {
		return
	}
	add := ix.added
	slices.SortFunc(add, func(a, b indexEntry) int { return strings.Compare(a.path, b.path) })
	n := len(ix.ents)
	ix.ents = slices.Grow(ix.ents, len(add))[:n+len(add)]
	i, j := n-1, len(add)-1
	for k := len(ix.ents) - 1; j >= 0; k-- {
		if i >= 0 && ix.ents[i].path > add[j].path {
			ix.ents[k] = ix.ents[i]
			i--
		} else {
			ix.ents[k] = add[j]
			j--
		}
	}
	ix.added = ix.added[:0]
	clear(ix.at)
}

// Keep drops every entry not in managed.
func (ix *Index) Keep(managed func(string) bool) {
	ix.merge()
	kept := ix.ents[:0]
	for _, e := range ix.ents {
		if managed(e.path) {
			kept = append(kept, e)
		}
	}
	if len(kept) < len(ix.ents) {
		clear(ix.ents[len(kept):])
		ix.ents = kept
		ix.Dirty = true
	}
}

// Mark notes that p is managed, for KeepMarked.
func (ix *Index) Mark(p string) {
	if e := ix.find(p); e != nil {
		e.marked = true
	}
}

// KeepMarked drops every entry not marked since the last KeepMarked (or
// KeepAll), and forgets the marks: what a look at every managed target
// does without a set of them all.
func (ix *Index) KeepMarked() {
	ix.merge()
	kept := ix.ents[:0]
	for _, e := range ix.ents {
		if e.marked {
			e.marked = false
			kept = append(kept, e)
		}
	}
	if len(kept) < len(ix.ents) {
		clear(ix.ents[len(kept):])
		ix.ents = kept
		ix.Dirty = true
	}
}

// KeepAll forgets the marks and keeps every entry.
func (ix *Index) KeepAll() {
	ix.merge()
	for i := range ix.ents {
		ix.ents[i].marked = false
	}
}

// Save writes the index when it changed, sorted by path, line by line.
func (ix *Index) Save() error {
	if !ix.Dirty {
		return nil
	}
	ix.merge()
	now := time.Now().UnixNano()
	err := atomicfile.WriteUnsyncedWith(ix.File, stateFileMode, func(w io.Writer) error {
		b := bufio.NewWriter(w)
		var line []byte
		line = append(line, "TRAIL-INDEX v1 asof="...)
		line = strconv.AppendInt(line, now, 10)
		b.Write(append(line, '\n'))
		for i := range ix.ents {
			e := &ix.ents[i]
			line = strconv.AppendUint(line[:0], e.ino, 10)
			line = append(line, ' ')
			line = strconv.AppendInt(line, e.size, 10)
			line = append(line, ' ')
			line = strconv.AppendInt(line, e.mtime, 10)
			line = append(line, ' ')
			line = strconv.AppendInt(line, e.ctime, 10)
			line = append(line, ' ')
			line = hex.AppendEncode(line, e.sum[:])
			line = append(line, ' ')
			line = append(line, stepfmt.QuoteValue(e.path)...)
			if _, err := b.Write(append(line, '\n')); err != nil {
				return err
			}
		}
		return b.Flush()
	})
	if err != nil {
		return fmt.Errorf("state: %w", err)
	}
	ix.Dirty = false
	ix.AsOf = now
	return nil
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
		l = bytes.TrimSuffix(l, []byte("\n"))
		var f [5][]byte
		for i := range f {
			var ok bool
			f[i], l, ok = bytes.Cut(l, []byte(" "))
			if !ok {
				return nil, fmt.Errorf("index line %d: too few fields", line)
			}
		}
		p, rest, err := stepfmt.ReadValue(string(l))
		if err != nil || rest != "" || stepfmt.CheckPath(p) != nil {
			return nil, fmt.Errorf("index line %d: bad path", line)
		}
		var e indexEntry
		var e1, e2, e3, e4, e5 error
		e.ino, e1 = strconv.ParseUint(string(f[0]), 10, 64)
		e.size, e2 = strconv.ParseInt(string(f[1]), 10, 64)
		e.mtime, e3 = strconv.ParseInt(string(f[2]), 10, 64)
		e.ctime, e4 = strconv.ParseInt(string(f[3]), 10, 64)
		if _, e5 = hex.Decode(e.sum[:], f[4]); e5 == nil && (len(f[4]) != 64 || bytes.ContainsAny(f[4], "ABCDEF")) {
			e5 = errors.New("not a sha256 of 64 lower-case hex digits")
		}
		if err := errors.Join(e1, e2, e3, e4, e5); err != nil {
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

// Size is the length of blob key, when the store has it.
func (s *Store) Size(key string) (int64, bool) {
	if kind.CheckKey(key) != nil {
		return 0, false
	}
	sum := digestOf(key)
	if p, i, ok := s.packed(&sum, false); ok {
		_, n := p.ix.at(i)
		return int64(n), true
	}
	var st unix.Stat_t
	if unix.Stat(s.Path(key), &st) != nil {
		if p, i, ok := s.packed(&sum, true); ok {
			_, n := p.ix.at(i)
			return int64(n), true
		}
		return 0, false
	}
	return st.Size, true
}
