package state

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"trail/apply/kind"
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
type Index struct {
	File    string
	Entries map[string]IndexEntry
	AsOf    int64 // when the loaded index was written, in ns
	Dirty   bool
}

// IndexEntry is the stat a file had when it was hashed, and the hash.
type IndexEntry struct {
	Ino          uint64
	Size         int64
	Mtime, Ctime int64
	Key          string
	fresh        bool // hashed by this process, not loaded
}

// LoadIndex reads the index in file; a missing or damaged one is empty.
func LoadIndex(file string) *Index {
	ix := &Index{File: file, Entries: make(map[string]IndexEntry)}
	data, err := os.ReadFile(file)
	if err != nil {
		return ix
	}
	if asOf, entries, err := ParseIndex(data); err == nil {
		ix.AsOf, ix.Entries = asOf, entries
	}
	return ix
}

// Lookup returns the hash of p when its stat is the one recorded.
func (ix *Index) Lookup(p string, st fsx.Stat) (string, bool) {
	e, ok := ix.Entries[p]
	if !ok || e.Ino != st.Ino || e.Size != st.Size || e.Mtime != st.Mtime || e.Ctime != st.Ctime {
		return "", false
	}
	if !e.fresh && e.Ctime >= ix.AsOf-int64(RacyWindow) {
		return "", false
	}
	return e.Key, true
}

// Put records the hash of p with the stat it was taken at.
func (ix *Index) Put(p string, st fsx.Stat, key string) {
	ix.Entries[p] = IndexEntry{Ino: st.Ino, Size: st.Size, Mtime: st.Mtime, Ctime: st.Ctime, Key: key, fresh: true}
	ix.Dirty = true
}

// Keep drops every entry not in managed.
func (ix *Index) Keep(managed func(string) bool) {
	for p := range ix.Entries {
		if !managed(p) {
			delete(ix.Entries, p)
			ix.Dirty = true
		}
	}
}

// Save writes the index when it changed.
func (ix *Index) Save() error {
	if !ix.Dirty {
		return nil
	}
	var b bytes.Buffer
	b.Grow(len(ix.Entries) * 128)
	now := time.Now().UnixNano()
	fmt.Fprintf(&b, "TRAIL-INDEX v1 asof=%d\n", now)
	for p, e := range ix.Entries {
		fmt.Fprintf(&b, "%d %d %d %d %s %s\n", e.Ino, e.Size, e.Mtime, e.Ctime, e.Key[len("sha256:"):], stepfmt.QuoteValue(p))
	}
	if err := WriteAtomic(ix.File, b.Bytes(), false); err != nil {
		return err
	}
	ix.Dirty = false
	ix.AsOf = now
	return nil
}

// ParseIndex reads the index file; any damage rejects it whole.
func ParseIndex(data []byte) (int64, map[string]IndexEntry, error) {
	text := string(data)
	head, text, ok := strings.Cut(text, "\n")
	v, ok2 := strings.CutPrefix(head, "TRAIL-INDEX v1 asof=")
	asOf, err := strconv.ParseInt(v, 10, 64)
	if !ok || !ok2 || err != nil {
		return 0, nil, errors.New("index: bad header")
	}
	entries := make(map[string]IndexEntry, strings.Count(text, "\n"))
	for n := 2; text != ""; n++ {
		var line string
		line, text, _ = strings.Cut(text, "\n")
		var f [5]string
		for i := range f {
			var ok bool
			f[i], line, ok = strings.Cut(line, " ")
			if !ok {
				return 0, nil, fmt.Errorf("index line %d: too few fields", n)
			}
		}
		p, rest, err := stepfmt.ReadValue(line)
		if err != nil || rest != "" || stepfmt.CheckPath(p) != nil {
			return 0, nil, fmt.Errorf("index line %d: bad path", n)
		}
		var e IndexEntry
		var e1, e2, e3, e4 error
		e.Ino, e1 = strconv.ParseUint(f[0], 10, 64)
		e.Size, e2 = strconv.ParseInt(f[1], 10, 64)
		e.Mtime, e3 = strconv.ParseInt(f[2], 10, 64)
		e.Ctime, e4 = strconv.ParseInt(f[3], 10, 64)
		e.Key = "sha256:" + f[4]
		if err := errors.Join(e1, e2, e3, e4, kind.CheckKey(e.Key)); err != nil {
			return 0, nil, fmt.Errorf("index line %d: %w", n, err)
		}
		entries[p] = e
	}
	return asOf, entries, nil
}

// Size is the length of blob key, when the store has it.
func (s *Store) Size(key string) (int64, bool) {
	if kind.CheckKey(key) != nil {
		return 0, false
	}
	var st unix.Stat_t
	if unix.Stat(s.Path(key), &st) != nil {
		return 0, false
	}
	return st.Size, true
}
