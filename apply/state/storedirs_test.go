package state

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// NewStore syncs the parent of every directory it makes, the state
// directory's own included, and so does a staging that makes store/pack
// again in a store from before packs: a crash may otherwise lose the
// new entry and what was made durable inside it.
func TestStoreDirsDurable(t *testing.T) {
	synced := map[string]bool{}
	dirSynced = func(d string) { synced[d] = true }
	defer func() { dirSynced = nil }()
	root := t.TempDir()
	dir := filepath.Join(root, "state", "store")
	s, err := NewStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{root, filepath.Dir(dir), dir} {
		if !synced[d] {
			t.Errorf("NewStore made a directory in %s and did not sync it (synced: %v)", d, synced)
		}
	}
	clear(synced)
	if _, err := NewStore(dir); err != nil {
		t.Fatal(err)
	}
	if len(synced) > 0 {
		t.Errorf("NewStore of a store that is there synced %v", synced)
	}
	if err := os.Remove(filepath.Join(dir, DirPack)); err != nil {
		t.Fatal(err)
	}
	var blobs [][]byte
	for i := range 2 * packFrom {
		blobs = append(blobs, fmt.Appendf(nil, "blob %d", i))
	}
	if _, err := s.PutMany(blobs); err != nil {
		t.Fatal(err)
	}
	if !synced[dir] {
		t.Errorf("a staging made store/pack again and did not sync store/ (synced: %v)", synced)
	}
}
