package host

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"math/bits"
	"os"
	"path/filepath"

	"trail/compile"
	"trail/internal/atomicfile"
)

// saveTrees keeps the trees res listed: it appends those the cache lacks,
// or writes the file afresh with them alone (see treesFile), the records
// of those the compile kept copied as they are. It is a cache: a fault
// leaves it as it was, or with a damaged last batch, which the next load
// skips and the next save replaces.
func (h *Host) saveTrees(tc *treeCache, res *compile.Result) {
	defer tc.close()
	live, added := 0, 0
	var fresh, kept []string
	// Every tree the compile holds was read from git: one the cache has
	// was resolved again for an entry its record left unknown (a block
	// that excluded it), and its record is replaced.
	for hash, es := range res.Trees {
		live += len(es)
		fresh = append(fresh, hash)
		added += len(es)
	}
	for hash := range res.Kept {
		if _, ok := res.Trees[hash]; ok {
			continue
		}
		a, ok := tc.atHex(hash)
		if !ok {
			// Not the cache's: written afresh without it.
			continue
		}
		live += int(a.n)
		kept = append(kept, hash)
	}
	whole := tc.good == 0 || tc.good != tc.size || tc.entries+added-live > live/8
	if !whole && len(fresh) == 0 {
		return
	}
	if !whole {
		var batch bytes.Buffer
		if writeTrees(&batch, res.Trees, fresh, nil, nil) == nil && appendTrees(h.treesPath(), tc.size, batch.Bytes()) {
			return
		}
	}
	all := make([]string, 0, len(res.Trees))
	for hash := range res.Trees {
		all = append(all, hash)
	}
	raw := make([]treeAt, 0, len(kept))
	for _, hash := range kept {
		a, _ := tc.atHex(hash)
		raw = append(raw, a)
	}
	_ = atomicfile.WriteUnsyncedWith(h.treesPath(), 0o600, func(w io.Writer) error {
		if _, err := w.Write(treesMagic); err != nil {
			return err
		}
		return writeTrees(w, res.Trees, all, raw, tc)
	})
	// The per-blob cache this one replaces.
	os.Remove(filepath.Join(h.Settings.state(), "blobkeys"))
}

// atHex is where the tree of the hex hash is in the cache.
func (tc *treeCache) atHex(hash string) (treeAt, bool) {
	var h [20]byte
	if len(hash) != 40 {
		return treeAt{}, false
	}
	if _, err := hex.Decode(h[:], []byte(hash)); err != nil {
		return treeAt{}, false
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

// writeTrees writes a batch of the trees named hashes and the records of
// tc at raw, as they are, to w (an error if one does not read back): its body is streamed through its checksum, its
// length found first, so that a rewrite of the whole cache holds no copy
// of it (at 100,000 files a body built in memory, then copied into the
// batch and that into the file's, was 20 MB more at the pull's stage).
func writeTrees(w io.Writer, trees map[string][]compile.TreeEntry, hashes []string, raw []treeAt, tc *treeCache) error {
	size := 0
	for _, a := range raw {
		size += int(a.end - a.off)
	}
	uvlen := func(v int) int { return max(1, (bits.Len(uint(v))+6)/7) }
	var ok []string
	for _, hash := range hashes {
		if len(hash) != 40 {
			continue
		}
		if _, err := hex.DecodeString(hash); err != nil {
			continue
		}
		ok = append(ok, hash)
		es := trees[hash]
		size += 20 + uvlen(len(es))
		for i := range es {
			e := &es[i]
			size += 1 + uvlen(len(e.Name)) + len(e.Name) + 20
			if e.Known {
				size += 32
			}
			if e.Type == compile.EntryLink {
				size += uvlen(len(e.To)) + len(e.To)
			}
		}
	}
	if _, err := w.Write(binary.AppendUvarint(nil, uint64(size))); err != nil {
		return err
	}
	sum := sha256.New()
	body := bufio.NewWriterSize(io.MultiWriter(w, sum), 32<<10)
	var num [binary.MaxVarintLen64]byte
	uvarint := func(v int) { body.Write(num[:binary.PutUvarint(num[:], uint64(v))]) }
	for _, a := range raw {
		b := tc.record(a)
		if b == nil {
			return errors.New("trees cache: a record does not read back")
		}
		body.Write(b)
	}
	for _, hash := range ok {
		var h [20]byte
		hex.Decode(h[:], []byte(hash))
		es := trees[hash]
		body.Write(h[:])
		uvarint(len(es))
		for i := range es {
			e := &es[i]
			t := byte(e.Type)
			if e.Known {
				t |= 0x80
			}
			body.WriteByte(t)
			uvarint(len(e.Name))
			body.WriteString(e.Name)
			body.Write(e.Git[:])
			if e.Known {
				body.Write(e.Sum[:])
			}
			if e.Type == compile.EntryLink {
				uvarint(len(e.To))
				body.WriteString(e.To)
			}
		}
	}
	if err := body.Flush(); err != nil {
		return err
	}
	_, err := w.Write(sum.Sum(nil))
	return err
}
