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
// stale. It is a cache: a missing, short or damaged file (its trailing
// checksum) is an empty one.
const treesFile = "trees"

var treesMagic = []byte("trail trees 1\n")

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
}

func (h *Host) treesPath() string { return filepath.Join(h.Settings.state(), treesFile) }

// loadTrees reads the cache; any fault gives an empty one. The file is
// read straight into the one string its entries' names share, hashed as it
// is read: at 100,000 files a byte copy of it was 9 MB more at the
// compile's start.
func (h *Host) loadTrees() *treeCache {
	tc := &treeCache{trees: map[string][]compile.TreeEntry{}}
	data, ok := readTrees(h.treesPath())
	if !ok {
		return tc
	}
	if trees, ok := decodeTrees(data[len(treesMagic) : len(data)-sha256.Size]); ok {
		tc.trees = trees
	}
	return tc
}

// readTrees reads the cache file whole into a string, false if it is
// missing, short, not a cache, or its trailing checksum does not match.
func readTrees(file string) (string, bool) {
	f, err := os.Open(file)
	if err != nil {
		return "", false
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.Size() < int64(len(treesMagic)+sha256.Size) {
		return "", false
	}
	var b strings.Builder
	b.Grow(int(st.Size()))
	sum := sha256.New()
	body := st.Size() - sha256.Size
	if n, err := io.Copy(io.MultiWriter(&b, sum), io.LimitReader(f, body)); err != nil || n != body {
		return "", false
	}
	if n, err := io.Copy(&b, io.LimitReader(f, sha256.Size+1)); err != nil || n != sha256.Size {
		return "", false
	}
	data := b.String()
	if !strings.HasPrefix(data, string(treesMagic)) || string(sum.Sum(nil)) != data[body:] {
		return "", false
	}
	return data, true
}

// decodeTrees parses the cache's body; names and targets share its memory.
func decodeTrees(b string) (map[string][]compile.TreeEntry, bool) {
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
			return nil, false
		}
		n, ok := uvarint()
		if !ok {
			return nil, false
		}
		es := make([]compile.TreeEntry, n)
		for i := range es {
			e := &es[i]
			t, ok := take(1)
			if !ok || t[0]&0x7f > byte(compile.EntryOther) {
				return nil, false
			}
			e.Type, e.Known = compile.EntryType(t[0]&0x7f), t[0]&0x80 != 0
			ln, ok := uvarint()
			if !ok {
				return nil, false
			}
			if e.Name, ok = take(ln); !ok {
				return nil, false
			}
			g, ok := take(20)
			if !ok {
				return nil, false
			}
			copy(e.Git[:], g)
			if e.Known {
				s, ok := take(32)
				if !ok {
					return nil, false
				}
				copy(e.Sum[:], s)
			}
			if e.Type == compile.EntryLink {
				ln, ok := uvarint()
				if !ok {
					return nil, false
				}
				if e.To, ok = take(ln); !ok {
					return nil, false
				}
			}
		}
		trees[hex.EncodeToString([]byte(hash))] = es
	}
	return trees, true
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

// saveTrees keeps the trees res listed, when that changes the cache: the
// trees of the commit just staged, and no others.
func (h *Host) saveTrees(tc *treeCache, res *compile.Result) {
	if res.Resolved == 0 && len(res.Trees) == len(tc.trees) {
		return
	}
	var buf bytes.Buffer
	buf.Write(treesMagic)
	var num [binary.MaxVarintLen64]byte
	uvarint := func(v int) { buf.Write(num[:binary.PutUvarint(num[:], uint64(v))]) }
	for hash, es := range res.Trees {
		var raw [20]byte
		if n, err := hex.Decode(raw[:], []byte(hash)); err != nil || n != 20 {
			continue
		}
		buf.Write(raw[:])
		uvarint(len(es))
		for _, e := range es {
			t := byte(e.Type)
			if e.Known {
				t |= 0x80
			}
			buf.WriteByte(t)
			uvarint(len(e.Name))
			buf.WriteString(e.Name)
			buf.Write(e.Git[:])
			if e.Known {
				buf.Write(e.Sum[:])
			}
			if e.Type == compile.EntryLink {
				uvarint(len(e.To))
				buf.WriteString(e.To)
			}
		}
	}
	sum := sha256.Sum256(buf.Bytes())
	buf.Write(sum[:])
	_ = atomicfile.WriteUnsynced(h.treesPath(), buf.Bytes(), 0o600)
	// The per-blob cache this one replaces.
	os.Remove(filepath.Join(h.Settings.state(), "blobkeys"))
}
