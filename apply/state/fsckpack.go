package state

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"trail/apply/kind"
)

// packs checks every pack: its index whole (checksum, order, every blob
// inside the pack) and every blob in it not checked before (seen); a pack
// without its index is what a trail that did not finish storing it left,
// and an index without its pack names blobs that are lost.
func (c *fsck) packs(seen map[string]bool) {
	dir := c.store.packDir()
	names, err := readNames(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	if err != nil {
		c.problem(dir, err.Error(), "make the store readable by root")
		return
	}
	have := map[string]bool{}
	for _, n := range names {
		have[n] = true
	}
	for _, n := range names {
		p := filepath.Join(dir, n)
		switch {
		case strings.HasSuffix(n, packSuffix):
			base := strings.TrimSuffix(n, packSuffix)
			if have[base+indexSuffix] {
				continue
			}
			if !packWriterGone(p, false) {
				continue // being written
			}
			c.problem(p, "a pack without its index, left by a trail that did not finish storing it: none of its blobs is part of the store",
				"remove it while no trail runs (the next trail that takes the lock does)")
		case strings.HasSuffix(n, indexSuffix):
			c.pack(strings.TrimSuffix(p, indexSuffix), seen)
		default:
			c.problem(p, "not part of the store: not a pack or a pack's index", "remove it")
		}
	}
}

// pack checks the pack at name (its path without suffix).
func (c *fsck) pack(name string, seen map[string]bool) {
	sp, err := openPack(name, true)
	if errors.Is(err, fs.ErrNotExist) {
		c.problem(name+indexSuffix, "the index of a pack that is not there: the blobs it names are lost",
			"remove it; what needs its blobs is listed as missing them")
		return
	}
	if err != nil {
		c.problem(name+indexSuffix, fmt.Sprintf("a damaged pack: %v", err),
			"remove the pack and its index, or put back both from a backup of the store; what needs its blobs is listed as missing them")
		return
	}
	defer sp.close()
	for i := range sp.ix.count {
		key := sumKey(sp.ix.digest(i))
		if seen[key] {
			continue
		}
		seen[key] = true
		c.Blobs++
		if _, err := readPacked(sp, i, key); err != nil {
			if _, lerr := c.store.getOwn(key); lerr == nil {
				c.problem(name+packSuffix, fmt.Sprintf("blob %s: its copy in this pack is %v; its file of its own %s is good and is what trail reads: the content is intact; nothing the applied record names needs it",
					key, blobTrouble(err), c.store.Path(key)),
					"nothing to do for the content: a gc drops the bad copy when it rewrites the pack")
				continue
			}
			c.problem(name+packSuffix, fmt.Sprintf("blob %s: %v; nothing the applied record names needs it", key, blobTrouble(err)),
				"nothing needs it: a gc drops it when it rewrites the pack")
		}
	}
}

// where is where blob key is, or would be: its pack, or its own file.
func (s *Store) where(key string) string {
	if kind.CheckKey(key) != nil {
		return s.Dir
	}
	sum := digestOf(key)
	if p, _, ok := s.packed(&sum, false); ok {
		return p.name + packSuffix
	}
	return s.Path(key)
}
