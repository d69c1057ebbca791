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
	for _, rd := range append(r.made, r.storage.rd) {
		c := rd.cache
		if c.cost > c.budget || len(c.byHash) > int(c.budget/objectOverhead) || len(c.byHash) != c.ll.Len() {
			t.Errorf("an object cache holds %d objects costing %d; the budget is %d", len(c.byHash), c.cost, c.budget)
		}
	}
	r.mu.Unlock()
	// Dropped, the caches hold nothing, and the tree reads as before.
	fsys.(interface{ DropCaches() }).DropCaches()
	r.mu.Lock()
	for _, rd := range append(r.made, r.storage.rd) {
		if c := rd.cache; c.cost != 0 || len(c.byHash) != 0 {
			t.Errorf("a dropped object cache holds %d objects costing %d", len(c.byHash), c.cost)
		}
	}
	r.mu.Unlock()
	if tfs.entries != 0 || len(tfs.trees) != 0 {
		t.Errorf("a dropped FS keeps %d decoded entries in %d trees", tfs.entries, len(tfs.trees))
	}
	if data, err := fs.ReadFile(fsys, "d7/f777"); err != nil || string(data) != "file 777\n" {
		t.Errorf("d7/f777 reads %q, %v after the caches were dropped", data, err)
	}
}

// The packs' shared indexes give every object's offset, and every
// offset's object, as go-git's own index does; and a commit whose objects
// are partly packed and partly loose reads whole.
func TestSharedIndexAsGoGit(t *testing.T) {
	g := gittest.New(t)
	files := map[string]string{}
	for i := 0; i < 300; i++ {
		files[fmt.Sprintf("d%d/f%d", i%7, i)] = fmt.Sprintf("%d %s\n", i, bytes.Repeat([]byte("same text "), i%20))
	}
	g.Write(files)
	g.Commit("packed")
	g.Git("gc", "-q")
	g.Write(map[string]string{"d1/f1": "loose now\n", "new/x": "loose too\n"})
	second := g.Commit("loose")
	r, err := Open(g.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	packs := r.packs()
	if len(packs) == 0 {
		t.Fatal("no packs after gc")
	}
	for _, p := range packs {
		it, err := p.idx.MemoryIndex.Entries()
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for e, err := it.Next(); err == nil; e, err = it.Next() {
			n++
			if off, err := p.idx.FindOffset(e.Hash); err != nil || off != int64(e.Offset) {
				t.Fatalf("offset of %s: %d, %v; want %d", e.Hash, off, err, e.Offset)
			}
			if h, err := p.idx.FindHash(int64(e.Offset)); err != nil || h != e.Hash {
				t.Fatalf("object at %d: %s, %v; want %s", e.Offset, h, err, e.Hash)
			}
		}
		if n == 0 {
			t.Fatal("an empty pack index")
		}
	}
	fsys, err := r.Tree(second)
	if err != nil {
		t.Fatal(err)
	}
	files["d1/f1"], files["new/x"] = "loose now\n", "loose too\n"
	for name, want := range files {
		if got, err := fs.ReadFile(fsys, name); err != nil || string(got) != want {
			t.Fatalf("%s: %q, %v; want %q", name, got, err, want)
		}
	}
}

// DropCaches empties the cache of loose objects too: a compile of a
// commit not yet packed read every file through it.
func TestDropCachesLoose(t *testing.T) {
	g, first, _ := sample(t)
	r := openRepo(t, g.Dir)
	fsys, err := r.Tree(first)
	if err != nil {
		t.Fatal(err)
	}
	if data, err := fs.ReadFile(fsys, "files/motd"); err != nil || string(data) != "hello\n" {
		t.Fatalf("files/motd reads %q, %v", data, err)
	}
	if c := r.storage.loose; c.cost == 0 {
		t.Fatal("reading loose objects cached none")
	}
	fsys.(interface{ DropCaches() }).DropCaches()
	if c := r.storage.loose; c.cost != 0 || len(c.byHash) != 0 {
		t.Errorf("a dropped cache of loose objects holds %d objects costing %d", len(c.byHash), c.cost)
	}
}
