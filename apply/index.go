package apply

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"trail/internal/fsx"
	"trail/stepfmt"
)

// racyWindow is how close to the moment the index was written a file's
// ctime may be and still be trusted. File times come from a coarse clock,
// so a file changed just after it was hashed can keep the same times; as
// git does with its index, such "racily clean" entries are hashed again.
const racyWindow = 50 * time.Millisecond

// index remembers, per managed file, the stat it had when it was hashed
// (inode, size, mtime, ctime) and the hash, so that a drift check reads
// only the files whose stat changed. It is a cache: a damaged or missing
// index costs re-hashing, never a wrong answer.
type index struct {
	file    string
	entries map[string]indexEntry
	asOf    int64 // when the loaded index was written, in ns
	dirty   bool
}

type indexEntry struct {
	ino          uint64
	size         int64
	mtime, ctime int64
	key          string
	fresh        bool // hashed by this process, not loaded
}

func loadIndex(file string) *index {
	ix := &index{file: file, entries: make(map[string]indexEntry)}
	data, err := os.ReadFile(file)
	if err != nil {
		return ix
	}
	if asOf, entries, err := parseIndex(data); err == nil {
		ix.asOf, ix.entries = asOf, entries
	}
	return ix
}

// lookup returns the hash of p when its stat is the one recorded.
func (ix *index) lookup(p string, st fsx.Stat) (string, bool) {
	e, ok := ix.entries[p]
	if !ok || e.ino != st.Ino || e.size != st.Size || e.mtime != st.Mtime || e.ctime != st.Ctime {
		return "", false
	}
	if !e.fresh && e.ctime >= ix.asOf-int64(racyWindow) {
		return "", false
	}
	return e.key, true
}

func (ix *index) put(p string, st fsx.Stat, key string) {
	ix.entries[p] = indexEntry{ino: st.Ino, size: st.Size, mtime: st.Mtime, ctime: st.Ctime, key: key, fresh: true}
	ix.dirty = true
}

func (ix *index) drop(p string) {
	if _, ok := ix.entries[p]; ok {
		delete(ix.entries, p)
		ix.dirty = true
	}
}

// keep drops every entry not in managed.
func (ix *index) keep(managed func(string) bool) {
	for p := range ix.entries {
		if !managed(p) {
			delete(ix.entries, p)
			ix.dirty = true
		}
	}
}

// save writes the index when it changed.
func (ix *index) save() error {
	if !ix.dirty {
		return nil
	}
	var b bytes.Buffer
	b.Grow(len(ix.entries) * 128)
	now := time.Now().UnixNano()
	fmt.Fprintf(&b, "TRAIL-INDEX v1 asof=%d\n", now)
	for p, e := range ix.entries {
		fmt.Fprintf(&b, "%d %d %d %d %s %s\n", e.ino, e.size, e.mtime, e.ctime, e.key[len("sha256:"):], stepfmt.QuoteValue(p))
	}
	if err := writeAtomic(ix.file, b.Bytes(), false); err != nil {
		return err
	}
	ix.dirty = false
	ix.asOf = now
	return nil
}

// parseIndex reads the index file; any damage rejects it whole.
func parseIndex(data []byte) (int64, map[string]indexEntry, error) {
	text := string(data)
	head, text, ok := strings.Cut(text, "\n")
	v, ok2 := strings.CutPrefix(head, "TRAIL-INDEX v1 asof=")
	asOf, err := strconv.ParseInt(v, 10, 64)
	if !ok || !ok2 || err != nil {
		return 0, nil, errors.New("index: bad header")
	}
	entries := make(map[string]indexEntry, strings.Count(text, "\n"))
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
		var e indexEntry
		var e1, e2, e3, e4 error
		e.ino, e1 = strconv.ParseUint(f[0], 10, 64)
		e.size, e2 = strconv.ParseInt(f[1], 10, 64)
		e.mtime, e3 = strconv.ParseInt(f[2], 10, 64)
		e.ctime, e4 = strconv.ParseInt(f[3], 10, 64)
		e.key = "sha256:" + f[4]
		if err := errors.Join(e1, e2, e3, e4, CheckKey(e.key)); err != nil {
			return 0, nil, fmt.Errorf("index line %d: %w", n, err)
		}
		entries[p] = e
	}
	return asOf, entries, nil
}

// readerOnly hides *os.File's WriteTo, which would allocate its own buffer
// for a writer that is not a file.
type readerOnly struct{ io.Reader }

// hashedBytes counts the bytes hashFile has read, so that tests can bound
// what a drift check reads.
var hashedBytes atomic.Int64

// hashFile returns the content key of the regular file p, from the index
// when p's stat is unchanged since it was last hashed. The entry records
// the stat taken before reading, so a change during the read shows as a
// changed stat next time.
//
// In a drift check (x.wrote set), a file whose size is not the size of
// what trail wrote has drifted: it is not read, and its content is given
// as "size:N". A file of the right size is read up to one byte past that
// size, so a huge or growing file costs no more than the file trail wrote.
func (x *Exec) hashFile(p string, st fsx.Stat) (string, error) {
	if k, ok := x.index.lookup(p, st); ok {
		return k, nil
	}
	limit := int64(-1)
	if x.wrote != "" {
		if n, ok := x.store.size(x.wrote); ok {
			if n != st.Size {
				return sizeOnly(st.Size), nil
			}
			limit = n + 1
		}
	}
	f, err := x.Root.OpenFile(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if x.buf == nil {
		x.buf = make([]byte, 64<<10)
	}
	var r io.Reader = f
	if limit >= 0 {
		r = io.LimitReader(f, limit)
	}
	n, err := io.CopyBuffer(h, readerOnly{r}, x.buf)
	hashedBytes.Add(n)
	if err != nil {
		return "", fmt.Errorf("hash %s: %w", p, err)
	}
	if n == limit {
		return sizeOnly(n) + "+", nil // grew while read: drifted
	}
	key := "sha256:" + hex.EncodeToString(h.Sum(nil))
	x.index.put(p, st, key)
	return key, nil
}

// sizeOnly stands for the content of a file that was not hashed because
// its size alone shows it is not what trail wrote.
func sizeOnly(n int64) string { return "size:" + strconv.FormatInt(n, 10) }

// size is the length of blob key, when the store has it.
func (s *Store) size(key string) (int64, bool) {
	if CheckKey(key) != nil {
		return 0, false
	}
	var st unix.Stat_t
	if unix.Stat(s.path(key), &st) != nil {
		return 0, false
	}
	return st.Size, true
}
