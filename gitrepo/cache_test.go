package gitrepo

import (
	"bytes"
	"fmt"
	"io/fs"
	"testing"

	"trail/gitrepo/gittest"
)

// A tree of many small files is read whole without the caches holding it:
// go-git's object cache and the FS's decoded trees stay within their
// budgets (the object cache used to count content bytes alone, so 10-byte
// blobs filled an 8 MiB budget by the hundred thousand, and every decoded
// tree was kept for the FS's life), and every file still reads right.
func TestCachesBoundedOverBigTree(t *testing.T) {
	g := gittest.New(t)
	const dirs, per = 240, 100
	var in bytes.Buffer
	in.WriteString("commit refs/heads/main\ncommitter t <t@example.org> 1700000000 +0000\ndata 2\nc\n")
	for i := 0; i < dirs*per; i++ {
		data := fmt.Sprintf("file %d\n", i)
		fmt.Fprintf(&in, "M 100644 inline d%d/f%d\ndata %d\n%s\n", i/per, i, len(data), data)
	}
	g.GitIn(in.Bytes(), "fast-import", "--quiet")
	g.Git("gc", "-q")
	r, err := Open(g.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	fsys, err := r.Tree("main")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		var i int
		if _, err := fmt.Sscanf(d.Name(), "f%d", &i); err != nil || string(data) != fmt.Sprintf("file %d\n", i) {
			return fmt.Errorf("%s reads %q", p, data)
		}
		n++
		return nil
	})
	if err != nil || n != dirs*per {
		t.Fatalf("walked %d files of %d: %v", n, dirs*per, err)
	}
	tfs := fsys.(*treeFS)
	if tfs.entries > treeCacheEntries || len(tfs.trees) != tfs.lru.Len() {
		t.Errorf("the FS keeps %d decoded entries in %d trees (%d listed); the budget is %d", tfs.entries, len(tfs.trees), tfs.lru.Len(), treeCacheEntries)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.caches {
		if c.cost > c.budget || len(c.byHash) > int(c.budget/objectOverhead) || len(c.byHash) != c.ll.Len() {
			t.Errorf("an object cache holds %d objects costing %d; the budget is %d", len(c.byHash), c.cost, c.budget)
		}
	}
}
