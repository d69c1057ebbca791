package host

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"

	"trail/compile"
	"trail/internal/atomicfile"
)

// saveTrees keeps the trees the compile of res listed: it appends those
// it handed over (resolved) in one batch, or writes the file afresh with
// them and the records of those it kept copied as they are (see
// treesFile). It is a cache: a fault leaves it as it was, or with a
// damaged last batch, which the next load skips and the next save
// replaces.
func (h *Host) saveTrees(tc *treeCache, res *compile.Result) {
	defer tc.close()
	// Every tree handed over was read from git: one the cache has was
	// resolved again for an entry its record left unknown (a block that
	// excluded it), and its record is replaced.
	fresh := make([]treeAt, 0, len(tc.pend))
	for _, a := range tc.pend {
		fresh = append(fresh, a)
	}
	slices.SortFunc(fresh, func(a, b treeAt) int { return cmp.Compare(a.off, b.off) })
	live, added := tc.pendEntries, tc.pendEntries
	var kept []treeAt
	for hash := range res.Kept {
		a, ok := tc.atHex(hash)
		if !ok || a.pend {
			// Not the cache's (written afresh without it), or handed
			// over again.
			continue
		}
		live += int(a.n)
		kept = append(kept, a)
	}
	whole := tc.good == 0 || tc.good != tc.size || tc.entries+added-live > live/8
	if !whole && len(fresh) == 0 {
		return
	}
	if !whole {
		var batch bytes.Buffer
		if writeTrees(&batch, fresh, tc) == nil && appendTrees(h.treesPath(), tc.size, batch.Bytes()) {
			return
		}
	}
	_ = atomicfile.WriteUnsyncedWith(h.treesPath(), 0o600, func(w io.Writer) error {
		if _, err := w.Write(treesMagic); err != nil {
			return err
		}
		return writeTrees(w, append(kept, fresh...), tc)
	})
	// The per-blob cache this one replaces.
	os.Remove(filepath.Join(h.Settings.state(), "blobkeys"))
}

// atHex is where the tree of the hex hash is: among those handed to the
// cache, else in its file.
func (tc *treeCache) atHex(hash string) (treeAt, bool) {
	var h [20]byte
	if len(hash) != 40 {
		return treeAt{}, false
	}
	if _, err := hex.Decode(h[:], []byte(hash)); err != nil {
		return treeAt{}, false
	}
	if a, ok := tc.pend[h]; ok {
		return a, true
	}
	a, ok := tc.at[h]
	return a, ok
}

// appendTrees appends batch to the cache file in one write, if the file
// is still size bytes long (no other trail wrote it since it was read).
func appendTrees(file string, size int64, batch []byte) bool {
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || st.Size() != size {
		return false
	}
	n, err := f.Write(batch)
	return err == nil && n == len(batch)
}

// writeTrees writes a batch of the records of tc at recs (in its file or
// its pending one), as they are, to w (an error if one does not read
// back): its body is streamed through its checksum, its length found
// first, so that a rewrite of the whole cache holds no copy of it (at
// 100,000 files a body built in memory, then copied into the batch and
// that into the file's, was 20 MB more at the pull's stage).
func writeTrees(w io.Writer, recs []treeAt, tc *treeCache) error {
	size := 0
	for _, a := range recs {
		size += int(a.end - a.off)
	}
	if _, err := w.Write(binary.AppendUvarint(nil, uint64(size))); err != nil {
		return err
	}
	sum := sha256.New()
	body := bufio.NewWriterSize(io.MultiWriter(w, sum), 32<<10)
	var buf []byte
	for _, a := range recs {
		if buf = tc.readAt(a, buf); buf == nil {
			return errors.New("trees cache: a record does not read back")
		}
		body.Write(buf)
	}
	if err := body.Flush(); err != nil {
		return err
	}
	_, err := w.Write(sum.Sum(nil))
	return err
}
