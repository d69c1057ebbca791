package state

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"io"
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
	AsOf  int64 // when the loaded index was last written whole (Save), in ns
	Dirty bool
	ents  []indexEntry     // sorted by path, one per path
	added []indexEntry     // put since the last merge, in no order
	at    map[string]int32 // path -> place in added
	// text, when set, is the loaded file, not yet parsed: an apply that
	// changes k files looks up and puts k entries, and parsing and
	// printing 100,000 lines to do so took a tenth of a CPU second. A
	// look-up finds its line by a binary search of the lines (which Save
	// writes sorted by path) and parses that line; an entry put is kept
	// in added, which is looked in first; Save copies the lines not
	// replaced as they are. What needs every entry parses the text whole
	// first (parsed), which rejects a damaged index whole, as a load
	// did; until then a damaged line is only an entry not found.
	text  *indexText
	found indexEntry
	// finds counts the searches of text: a look at many entries out of
	// their order parses it whole after a few, as a search costs what
	// parsing a line does, log2(n) times over, and a read each; a look
	// in their order (a drift check of a tree) reads the text in turn.
	finds int
	// hint is the entry after the one found last: paths are mostly
	// looked up in their order (a tree's files), and the entry there is
	// looked at before a binary search.
	hint int
	// spilling is set by Reserve for many entries to come: what is put
	// is then written to runs as it comes (indexspill.go), oldest first.
	spilling bool
	runs     []*indexRun
	// lineMarks[i] is set when Mark named the path of text's line i
	// (indexmark.go).
	lineMarks []bool
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

// LoadIndex reads the index in file; a missing one, or one whose header
// is damaged, is empty. Its lines are parsed as they are needed (text).
func LoadIndex(file string) *Index {
	t, asOf := openIndexText(file)
	return &Index{File: file, AsOf: asOf, text: t}
}

// Close lets go of the file an index not parsed whole reads.
func (ix *Index) Close() {
	ix.closeRuns()
	ix.text.close()
	ix.text = nil
}

// parsed parses the text whole into the sorted entries, as a load once
// did (any damage drops them all), keeping what was put since.
func (ix *Index) parsed() {
	ix.unspill()
	t := ix.text
	if t == nil {
		return
	}
	ix.text = nil
	if p, err := t.parse(); err == nil {
		ix.ents = p.ents
	}
	t.close()
	added := ix.added
	ix.added = nil
	clear(ix.at)
	dirty := ix.Dirty
	for _, e := range added {
		ix.put(e)
	}
	ix.Dirty = dirty || len(added) > 0
}

// Len returns how many files the index has an entry for.
func (ix *Index) Len() int {
	ix.parsed()
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

// find returns p's entry; one of text is a copy, valid until the next
// find, which changes nothing in the index when written.
func (ix *Index) find(p string) *indexEntry {
	if i, ok := ix.at[p]; ok {
		return &ix.added[i]
	}
	if e := ix.findRun(p); e != nil {
		return e
	}
	if ix.text != nil {
		l, ok := ix.text.find(p)
		if !ok {
			if ix.finds++; ix.finds > 64+ix.text.n()/1024 {
				ix.parsed()
				return ix.find(p)
			}
			i, found := ix.text.search(p)
			if !found {
				return nil
			}
			var err error
			if l, err = ix.text.line(i); err != nil {
				return nil
			}
			ix.text.next = i + 1
		}
		// The line is p's: its path need not be parsed again.
		e, _, err := parseIndexFields(l)
		if err != nil {
			return nil
		}
		e.path = p
		ix.found = e
		return &ix.found
	}
	if i := ix.hint; i < len(ix.ents) && ix.ents[i].path == p {
		ix.hint++
		return &ix.ents[i]
	}
	i, ok := slices.BinarySearchFunc(ix.ents, p, func(e indexEntry, p string) int { return strings.Compare(e.path, p) })
	if !ok {
		return nil
	}
	ix.hint = i + 1
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

// Behind reports whether the index differs from its file in only a few
// entries put since it was loaded, and was not parsed whole: a save
// may wait, as the file's entries of those paths are only out of date
// (their stat is not the file's now), which costs the next drift check
// a hash of each, not a wrong answer.
func (ix *Index) Behind() bool {
	return ix.text != nil && len(ix.runs) == 0 && len(ix.added) <= 64+ix.text.n()/1024
}

// Reserve says that n more entries are to be put: many of them are
// spilled to runs as they come (indexspill.go) rather than held; else it
// makes room for them, so that the merges of an apply that puts them do
// not grow the sorted entries again and again (at 100,000 new files the
// arrays they left behind held 8 MB more).
func (ix *Index) Reserve(n int) {
	if n >= minMerge && ix.File != "" {
		ix.spilling = true
		return
	}
	if ix.text != nil && n < max(minMerge, ix.text.n()/4) {
		return
	}
	ix.parsed()
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
	if ix.spilling {
		if ix.at == nil {
			ix.at = make(map[string]int32)
		}
		ix.at[e.path] = int32(len(ix.added))
		ix.added = append(ix.added, e)
		if len(ix.added) >= minMerge {
			ix.spill()
		}
		return
	}
	if ix.text != nil && len(ix.added) >= max(minMerge, ix.text.n()/4) {
		ix.parsed()
	}
	if ix.text != nil {
		if ix.at == nil {
			ix.at = make(map[string]int32)
		}
		ix.at[e.path] = int32(len(ix.added))
		ix.added = append(ix.added, e)
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
	ix.parsed()
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
	ix.parsed()
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

// Save writes the index when it changed, sorted by path, line by line.
// An entry loaded racily clean (Lookup) stays untrusted: a file changed
// in the tick it was hashed in would otherwise pass for clean once the
// index was saved again, at a later time, by an operation that never
// looked at it. Parsed, such entries are left out; the lines of an index
// not parsed are copied as they are, under the time they were written at.
func (ix *Index) Save() error {
	if !ix.Dirty {
		return nil
	}
	asOf := ix.AsOf
	merged := len(ix.runs) > 0
	switch {
	case merged:
		// The runs' entries are fresh; the loaded ones racily clean are
		// left out as they are merged (saveMerged).
		if ix.text == nil {
			ix.dropRacy()
		}
		asOf = time.Now().UnixNano()
	case ix.text == nil:
		ix.merge()
		ix.dropRacy()
		asOf = time.Now().UnixNano()
	}
	err := atomicfile.WriteUnsyncedWith(ix.File, stateFileMode, func(w io.Writer) error {
		b := bufio.NewWriter(w)
		var line []byte
		line = append(line, "TRAIL-INDEX v1 asof="...)
		line = strconv.AppendInt(line, asOf, 10)
		b.Write(append(line, '\n'))
		if merged {
			return ix.saveMerged(b)
		}
		if ix.text != nil {
			return ix.saveText(b)
		}
		for i := range ix.ents {
			line = appendIndexLine(line[:0], &ix.ents[i])
			if _, err := b.Write(line); err != nil {
				return err
			}
		}
		return b.Flush()
	})
	if err != nil {
		return fmt.Errorf("state: %w", err)
	}
	if merged {
		ix.afterMerged()
	}
	ix.Dirty = false
	ix.AsOf = asOf
	return nil
}

// dropRacy drops the loaded entries that Lookup does not trust for
// their ctime, as recent as the time the loaded index was written.
func (ix *Index) dropRacy() {
	kept := ix.ents[:0]
	for _, e := range ix.ents {
		if e.fresh || e.ctime < ix.AsOf-int64(RacyWindow) {
			kept = append(kept, e)
		}
	}
	clear(ix.ents[len(kept):])
	ix.ents = kept
}

// saveText writes the entries of an index not parsed: the text's lines
// as they are, each entry put since the load in its place among them
// (replacing the line of its path), so that a save costs a copy of the
// file and the lines of what changed.
func (ix *Index) saveText(b *bufio.Writer) error {
	t := ix.text
	slices.SortFunc(ix.added, func(a, b indexEntry) int { return strings.Compare(a.path, b.path) })
	for i, e := range ix.added {
		ix.at[e.path] = int32(i)
	}
	pos := t.lines[0]
	var line []byte
	for i := range ix.added {
		e := &ix.added[i]
		at, ok := t.search(e.path)
		if err := t.copyTo(b, pos, t.lines[at]); err != nil {
			return err
		}
		pos = max(pos, t.lines[at])
		line = appendIndexLine(line[:0], e)
		b.Write(line)
		if ok {
			pos = t.lines[at+1]
		}
	}
	if err := t.copyTo(b, pos, t.lines[len(t.lines)-1]); err != nil {
		return err
	}
	return b.Flush()
}

// appendIndexLine appends e's line, newline and all.
func appendIndexLine(line []byte, e *indexEntry) []byte {
	line = strconv.AppendUint(line, e.ino, 10)
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
	return append(line, '\n')
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
