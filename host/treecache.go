package host

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"trail/compile"
	"trail/internal/atomicfile"
)

// treesFile caches, in the state directory, the git trees the last apply's
// tree blocks listed, resolved (compile.TreeEntry: names, types, link
// targets and each file's sha256), so the next apply reads from git
// objects only the trees its commit changed, and hashes only the blobs
// those hold that no cached tree knew. Resolved trees are named by their
// object hash and hold nothing a config or host sets, so an entry is never
// stale. It is a cache: what a fault damaged is as if never written.
//
// The file is the magic line and batches, each a uvarint length, that
// many bytes of trees and their sha256. An apply appends in one write the
// trees its commit made (at 100,000 files a pull of one changed file adds
// about 60 KB to a 6 MB file), and writes the file afresh, by a rename,
// with only the commit's trees once the trees no longer listed hold more
// than an eighth as many entries as those listed (each holds memory in
// every compile until then), or the file ends in a
// batch cut short or damaged (a crash in an append, whose batches before
// it still load).
const treesFile = "trees"

var treesMagic = []byte("trail trees 2\n")

// treeCache is the loaded cache. blobs indexes its files by blob hash,
// made when a compile first asks (compile.Options.KnownBlob): only a
// changed tree's entries are looked up one by one. It points into trees
// (whose entries a compile never changes: it resolves a copy) and is made
// at its final size: at 100,000 files, copies of the keys and the map's
// growth were 16 MB, this is 6.5.
type treeCache struct {
	trees     map[string][]compile.TreeEntry
	blobsOnce sync.Once
	blobs     map[[20]byte]*compile.TreeEntry
	// size is the file's length as read and good the length of its
	// magic and whole batches (0: no cache file to append to); entries
	// counts the entries of trees.
	size, good int64
	entries    int
}

func (h *Host) treesPath() string { return filepath.Join(h.Settings.state(), treesFile) }

// loadTrees reads the cache; any fault gives the batches before it. The
// file is read straight into the one string its entries' names share: at
// 100,000 files a byte copy of it was 9 MB more at the compile's start.
func (h *Host) loadTrees() *treeCache {
	tc := &treeCache{trees: map[string][]compile.TreeEntry{}}
	data, ok := readTrees(h.treesPath())
	if !ok {
		return tc
	}
	tc.size = int64(len(data))
	if !strings.HasPrefix(data, string(treesMagic)) {
		return tc
	}
	off := len(treesMagic)
	for off < len(data) {
		body, next, ok := nextBatch(data, off)
		if !ok || !decodeTrees(body, tc) {
			break
		}
		off = next
	}
	tc.good = int64(off)
	return tc
}

// nextBatch returns the body of the batch at off in data and where the
// next begins, false if it is cut short or its checksum does not match.
func nextBatch(data string, off int) (string, int, bool) {
	v, n := binary.Uvarint([]byte(data[off:min(len(data), off+binary.MaxVarintLen64)]))
	if n <= 0 || v > uint64(len(data)-off-n) || len(data)-off-n-int(v) < sha256.Size {
		return "", 0, false
	}
	body := data[off+n : off+n+int(v)]
	end := off + n + int(v) + sha256.Size
	if sum := sha256.Sum256([]byte(body)); string(sum[:]) != data[end-sha256.Size:end] {
		return "", 0, false
	}
	return body, end, true
}

// readTrees reads the cache file whole into a string, false if it is
// missing or unreadable.
func readTrees(file string) (string, bool) {
	f, err := os.Open(file)
	if err != nil {
		return "", false
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", false
	}
	var b strings.Builder
	b.Grow(int(st.Size()))
	if _, err := io.Copy(&b, f); err != nil {
		return "", false
	}
	return b.String(), true
}

// decodeTrees adds the trees of a batch's body to tc, whose names and
// targets share its memory; false, adding none, if it does not parse.
func decodeTrees(b string, tc *treeCache) bool {
	trees := map[string][]compile.TreeEntry{}
	uvarint := func() (int, bool) {
		v, n := binary.Uvarint([]byte(b[:min(len(b), binary.MaxVarintLen64)]))
		if n <= 0 || v > uint64(len(b)) {
			return 0, false
		}
		b = b[n:]
		return int(v), true
	}
	take := func(n int) (string, bool) {
		if n > len(b) {
			return "", false
		}
		s := b[:n]
		b = b[n:]
		return s, true
	}
	for len(b) > 0 {
		hash, ok := take(20)
		if !ok {
			return false
		}
		n, ok := uvarint()
		if !ok {
			return false
		}
		es := make([]compile.TreeEntry, n)
		for i := range es {
			e := &es[i]
			t, ok := take(1)
			if !ok || t[0]&0x7f > byte(compile.EntryOther) {
				return false
			}
			e.Type, e.Known = compile.EntryType(t[0]&0x7f), t[0]&0x80 != 0
			ln, ok := uvarint()
			if !ok {
				return false
			}
			if e.Name, ok = take(ln); !ok {
				return false
			}
			g, ok := take(20)
			if !ok {
				return false
			}
			copy(e.Git[:], g)
			if e.Known {
				s, ok := take(32)
				if !ok {
					return false
				}
				copy(e.Sum[:], s)
			}
			if e.Type == compile.EntryLink {
				ln, ok := uvarint()
				if !ok {
					return false
				}
				if e.To, ok = take(ln); !ok {
					return false
				}
			}
		}
		trees[hex.EncodeToString([]byte(hash))] = es
	}
	for hash, es := range trees {
		if _, ok := tc.trees[hash]; !ok {
			tc.entries += len(es)
		}
		tc.trees[hash] = es
	}
	return true
}

// tree is compile.Options.Trees over the cache.
func (tc *treeCache) tree(hash string) ([]compile.TreeEntry, bool) {
	es, ok := tc.trees[hash]
	return es, ok
}

// known is compile.Options.KnownBlob over the cache's files.
func (tc *treeCache) known(gitHash string) (string, bool) {
	tc.blobsOnce.Do(func() {
		n := 0
		for _, es := range tc.trees {
			for i := range es {
				if es[i].Known {
					n++
				}
			}
		}
		tc.blobs = make(map[[20]byte]*compile.TreeEntry, n)
		for _, es := range tc.trees {
			for i := range es {
				if es[i].Known {
					tc.blobs[es[i].Git] = &es[i]
				}
			}
		}
	})
	var h [20]byte
	if len(gitHash) != 40 {
		return "", false
	}
	if _, err := hex.Decode(h[:], []byte(gitHash)); err != nil {
		return "", false
	}
	e, ok := tc.blobs[h]
	if !ok {
		return "", false
	}
	return "sha256:" + hex.EncodeToString(e.Sum[:]), true
}

// saveTrees keeps the trees res listed: it appends those the cache lacks,
// or writes the file afresh with them alone (see treesFile). It is a
// cache: a fault leaves it as it was, or with a damaged last batch, which
// the next load skips and the next save replaces.
func (h *Host) saveTrees(tc *treeCache, res *compile.Result) {
	live, added := 0, 0
	var fresh []string
	for hash, es := range res.Trees {
		live += len(es)
		if _, ok := tc.trees[hash]; !ok {
			fresh = append(fresh, hash)
			added += len(es)
		}
	}
	whole := tc.good == 0 || tc.good != tc.size || tc.entries+added-live > live/8
	if !whole && len(fresh) == 0 {
		return
	}
	if !whole && appendTrees(h.treesPath(), tc.size, encodeTrees(res.Trees, fresh)) {
		return
	}
	all := make([]string, 0, len(res.Trees))
	for hash := range res.Trees {
		all = append(all, hash)
	}
	var buf bytes.Buffer
	buf.Write(treesMagic)
	buf.Write(encodeTrees(res.Trees, all))
	_ = atomicfile.WriteUnsynced(h.treesPath(), buf.Bytes(), 0o600)
	// The per-blob cache this one replaces.
	os.Remove(filepath.Join(h.Settings.state(), "blobkeys"))
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

// encodeTrees makes a batch of the trees named hashes.
func encodeTrees(trees map[string][]compile.TreeEntry, hashes []string) []byte {
	var body bytes.Buffer
	var num [binary.MaxVarintLen64]byte
	uvarint := func(v int) { body.Write(num[:binary.PutUvarint(num[:], uint64(v))]) }
	for _, hash := range hashes {
		var raw [20]byte
		if n, err := hex.Decode(raw[:], []byte(hash)); err != nil || n != 20 {
			continue
		}
		es := trees[hash]
		body.Write(raw[:])
		uvarint(len(es))
		for _, e := range es {
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
	sum := sha256.Sum256(body.Bytes())
	batch := binary.AppendUvarint(make([]byte, 0, body.Len()+binary.MaxVarintLen64+sha256.Size), uint64(body.Len()))
	return append(append(batch, body.Bytes()...), sum[:]...)
}
