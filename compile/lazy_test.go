package compile

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"testing"

	"trail/gitrepo"
	"trail/gitrepo/gittest"
	"trail/stepfmt"
)

// A lazy compile gives the same list as a full one; tree contents are in
// Refs instead of Blobs, and ReadBlob gives each back from the tree. A
// tree of more files than one read window, with duplicate contents and a
// file block sharing a tree entry's content, covers the windows and the
// precedence of Blobs.
func TestLazyTreeEqualsFull(t *testing.T) {
	g := gittest.New(t)
	files := map[string]string{
		"main.hcl": "tree \"www\" {\n  path = \"/srv/www\"\n  source = \"www\"\n}\n" +
			"file \"/etc/motd\" {\n  content = \"page 7\\n\"\n}\n",
	}
	for i := 0; i < 1300; i++ {
		files[fmt.Sprintf("www/d%02d/f%04d", i/100, i)] = fmt.Sprintf("page %d\n", i%900)
	}
	g.Write(files)
	commit := g.Commit("tree")
	repo, err := gitrepo.Open(g.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	tree, err := repo.Tree(commit)
	if err != nil {
		t.Fatal(err)
	}
	full, diags := Compile(tree, testFacts(), Options{Commit: commit})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	lazy, diags := Compile(tree, testFacts(), Options{Commit: commit, LazyTree: true})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if a, b := stepfmt.Format(full.List), stepfmt.Format(lazy.List); !bytes.Equal(a, b) {
		t.Fatalf("lazy list differs from the full one:\n%s\nvs\n%s", b, a)
	}
	if len(lazy.Blobs) != 1 || len(lazy.Refs.Map()) != len(full.Blobs)-1 {
		t.Fatalf("lazy compile holds %d blobs and %d refs; want 1 (the file block's) and %d", len(lazy.Blobs), len(lazy.Refs.Map()), len(full.Blobs)-1)
	}
	for k, want := range full.Blobs {
		got, err := lazy.ReadBlob(tree, k)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("ReadBlob(%s) = %q, %v; want %q", k, got, err, want)
		}
	}
	if _, err := lazy.ReadBlob(tree, "sha256:"+fmt.Sprintf("%064d", 0)); err == nil {
		t.Fatal("ReadBlob of a key the compile has not: no error")
	}

	// With Read, each content read is handed to it and not named in
	// Refs: Read and Blobs together hold every content, Refs none. What
	// the compile knew (KnownBlob) it does not read: Refs names it.
	handed := map[string][]byte{}
	read := func(key string, data []byte) {
		if blobKey(data) != key {
			t.Fatalf("handed %q as %s", data, key)
		}
		handed[key] = bytes.Clone(data)
	}
	kept, diags := Compile(tree, testFacts(), Options{Commit: commit, LazyTree: true, Read: read})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if a, b := stepfmt.Format(full.List), stepfmt.Format(kept.List); !bytes.Equal(a, b) {
		t.Fatalf("the list of a compile handing its contents over differs from the full one:\n%s\nvs\n%s", b, a)
	}
	// The tree's 900 contents, the file block's among them (the tree
	// comes first).
	if kept.Refs.Len() != 0 || len(kept.Blobs) != 1 || len(handed) != 900 {
		t.Fatalf("a compile handing its contents over named %d in Refs, held %d blobs and handed %d; want none, 1 and 900", kept.Refs.Len(), len(kept.Blobs), len(handed))
	}
	for k, want := range full.Blobs {
		if got, ok := handed[k]; !ok && !bytes.Equal(kept.Blobs[k], want) || ok && !bytes.Equal(got, want) {
			t.Fatalf("content %s: handed %q, held %q; want %q", k, got, kept.Blobs[k], want)
		}
	}
	clear(handed)
	known := func(h string) (string, bool) {
		var raw [20]byte
		hex.Decode(raw[:], []byte(h))
		data, err := tree.(gitBlobFS).ReadGitBlob(raw)
		return blobKey(data), err == nil
	}
	again, diags := Compile(tree, testFacts(), Options{Commit: commit, LazyTree: true, Read: read, KnownBlob: known})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if len(handed) != 0 || len(again.Refs.Map()) != len(full.Blobs)-1 {
		t.Fatalf("a compile that knew every content handed %d and named %d in Refs; want none and %d", len(handed), len(again.Refs.Map()), len(full.Blobs)-1)
	}
}

// A compile with NoRepoPaths gives the same list, and origins with the
// same makers and no repository path; the compile without names the
// paths of the tree's entries and of a file block's source.
func TestNoRepoPaths(t *testing.T) {
	g := gittest.New(t)
	files := map[string]string{
		"main.hcl": "tree \"www\" {\n  path = \"/srv/www\"\n  source = \"www\"\n}\n" +
			"file \"/etc/motd\" {\n  source = \"motd\"\n}\n",
		"motd": "hello\n",
	}
	for i := 0; i < 700; i++ {
		files[fmt.Sprintf("www/d%02d/f%04d", i/100, i)] = fmt.Sprintf("page %d\n", i)
	}
	g.Write(files)
	commit := g.Commit("tree")
	repo, err := gitrepo.Open(g.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	tree, err := repo.Tree(commit)
	if err != nil {
		t.Fatal(err)
	}
	with, diags := Compile(tree, testFacts(), Options{Commit: commit, LazyTree: true})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	without, diags := Compile(tree, testFacts(), Options{Commit: commit, LazyTree: true, NoRepoPaths: true})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if a, b := stepfmt.Format(with.List), stepfmt.Format(without.List); !bytes.Equal(a, b) {
		t.Fatalf("the list without repository paths differs:\n%s\nvs\n%s", b, a)
	}
	named := 0
	for i, o := range without.Origins {
		w := with.Origins[i]
		if o.RepoPath != "" || o.Maker == nil || o.Resource != w.Resource || o.Range != w.Range {
			t.Fatalf("origin %d: %+v, want %+v without its path", i, o, w)
		}
		if w.RepoPath != "" {
			named++
		}
	}
	// The 700 files, their 8 directories and the file block's source.
	if named != 709 {
		t.Fatalf("the compile with paths named %d, want 709", named)
	}
}
