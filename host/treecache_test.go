package host

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"trail/compile"
)

// After an apply, the next compile of a commit that changed one file of a
// tree reads from git objects the trees on that file's path and that one
// blob: the other trees and their keys come from the cache. A damaged
// cache is an empty one: the apply reads everything and is right.
func TestTreeCacheReadsOnlyChangedTrees(t *testing.T) {
	dir := testCheckout(t, "tree \"www\" {\n  path = \"/etc/www\"\n  source = \"www\"\n}\n")
	write := func(name, data string) {
		p := filepath.Join(dir, "www", name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 50; i++ {
		write(fmt.Sprintf("d%d/f%d", i%5, i), fmt.Sprintf("page %d\n", i))
	}
	gitIn(t, dir, "add", "-A")
	gitIn(t, dir, "commit", "-q", "-m", "tree")
	var out bytes.Buffer
	h, err := Open(dir, &out, &out)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	apply := func() {
		t.Helper()
		if _, err := h.Apply(context.Background(), ApplyOptions{}); err != nil {
			t.Fatalf("%v\n%s", err, out.String())
		}
	}
	apply()
	if n := len(h.loadTrees().at); n != 6 {
		t.Fatalf("the cache holds %d trees after the first apply; want 6", n)
	}

	write("d0/f0", "changed\n")
	gitIn(t, dir, "commit", "-q", "-am", "one file")
	c, err := h.compileToApply("HEAD")
	if err != nil {
		t.Fatal(err)
	}
	if c.Learned != 1 || c.Resolved != 2 || len(c.trees.pend)+len(c.Kept) != 6 || len(c.trees.pend) != 2 || len(c.Trees) != 0 {
		t.Fatalf("compile of one changed file read %d blobs and %d trees of %d; want 1 blob, and 2 trees (www, www/d0) of 6, only those 2 handed to the cache and none held", c.Learned, c.Resolved, len(c.trees.pend)+len(c.Kept))
	}
	if c.trees.indexed {
		t.Fatal("compile of one changed file made the index of every cached blob: d0's other files are in its tree of the applied commit")
	}
	apply()
	if got, err := os.ReadFile(filepath.Join(h.Settings.root(), "etc/www/d0/f0")); err != nil || string(got) != "changed\n" {
		t.Fatalf("d0/f0 = %q, %v", got, err)
	}

	data, err := os.ReadFile(h.treesPath())
	if err != nil {
		t.Fatal(err)
	}
	// The change left more than an eighth of the entries unlisted, so the
	// file was written afresh, one batch: a byte short, or of another
	// format, it is as empty as a damaged one; a byte long (an append cut
	// short), the batch before loads. The whole file reads back as it was
	// written.
	if f, trees, ok := readTrees(h.treesPath()); !ok || string(trees) != string(data) {
		t.Fatalf("readTrees of the cache gave %d bytes, %v; want its %d", len(trees), ok, len(data))
	} else {
		f.Close()
	}
	for name, bad := range map[string][]byte{
		"short": data[:len(data)-1],
		"long":  append(append([]byte{}, data...), 0),
		"magic": append([]byte("trail trees 1\n"), data[len(treesMagic):]...),
		"tiny":  data[:len(treesMagic)+sha256.Size-1],
	} {
		if err := os.WriteFile(h.treesPath(), bad, 0o600); err != nil {
			t.Fatal(err)
		}
		want := 0
		if name == "long" {
			want = 6
		}
		if tc := h.loadTrees(); len(tc.at) != want || tc.good == tc.size {
			t.Fatalf("a %s cache gave %d trees and %d good bytes of %d; want %d trees, not all good", name, len(tc.at), tc.good, tc.size, want)
		}
	}
	data[len(treesMagic)+25] ^= 0xff
	if err := os.WriteFile(h.treesPath(), data, 0o600); err != nil {
		t.Fatal(err)
	}
	if n := len(h.loadTrees().at); n != 0 {
		t.Fatalf("a damaged cache gave %d trees; want none", n)
	}
	write("d1/f1", "changed too\n")
	gitIn(t, dir, "commit", "-q", "-am", "another")
	apply()
	if got, err := os.ReadFile(filepath.Join(h.Settings.root(), "etc/www/d1/f1")); err != nil || string(got) != "changed too\n" {
		t.Fatalf("d1/f1 = %q, %v", got, err)
	}
	if n := len(h.loadTrees().at); n != 6 {
		t.Fatalf("the cache holds %d trees after an apply with a damaged one; want 6", n)
	}
}

// A pull of one changed file appends to the cache the trees its commit
// made, leaving the bytes before as they were, and the next compile takes
// every other tree from it; once the trees no longer listed hold more than
// an eighth as many entries as those listed the file is written afresh
// with only the listed ones; an append cut short (a crash) leaves the
// batches before it, and the next apply writes the file afresh.
func TestTreeCacheAppends(t *testing.T) {
	dir := testCheckout(t, "tree \"www\" {\n  path = \"/etc/www\"\n  source = \"www\"\n}\n")
	write := func(name, data string) {
		p := filepath.Join(dir, "www", name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 400 {
		write(fmt.Sprintf("d%d/f%d", i%40, i), fmt.Sprintf("page %d\n", i))
	}
	gitIn(t, dir, "add", "-A")
	gitIn(t, dir, "commit", "-q", "-m", "tree")
	var out bytes.Buffer
	h, err := Open(dir, &out, &out)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	change := func(name, data string) {
		t.Helper()
		write(name, data)
		gitIn(t, dir, "commit", "-q", "-am", name)
		if _, err := h.Apply(context.Background(), ApplyOptions{}); err != nil {
			t.Fatalf("%v\n%s", err, out.String())
		}
		if got, err := os.ReadFile(filepath.Join(h.Settings.root(), "etc/www", name)); err != nil || string(got) != data {
			t.Fatalf("%s = %q, %v; want %q", name, got, err, data)
		}
	}
	read := func() []byte {
		t.Helper()
		data, err := os.ReadFile(h.treesPath())
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	if _, err := h.Apply(context.Background(), ApplyOptions{}); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	first := read()

	change("d0/f0", "changed\n")
	second := read()
	if !bytes.HasPrefix(second, first) || len(second)-len(first) > len(first)/8 {
		t.Fatalf("a pull of one changed file wrote the %d-byte cache as %d bytes, not by appending to it", len(first), len(second))
	}
	if tc := h.loadTrees(); len(tc.at) != 43 || tc.good != tc.size {
		t.Fatalf("the cache holds %d trees, %d good bytes of %d; want 41 and the 2 the change made, all good", len(tc.at), tc.good, tc.size)
	}
	write("d1/f1", "next\n")
	gitIn(t, dir, "commit", "-q", "-am", "next")
	c, err := h.compileToApply("HEAD")
	if err != nil {
		t.Fatal(err)
	}
	if c.Learned != 1 || c.Resolved != 2 {
		t.Fatalf("compile from an appended cache read %d blobs and %d trees; want 1 and 2 (www, www/d1)", c.Learned, c.Resolved)
	}
	gitIn(t, dir, "reset", "-q", "--hard", "HEAD~1")

	change("d2/f2", "again\n")
	if tc := h.loadTrees(); len(tc.at) != 41 || tc.good != tc.size || tc.size >= int64(len(second)) {
		t.Fatalf("with 100 of 440 entries unlisted the cache holds %d trees in %d bytes (%d good); want the 41 listed, written afresh", len(tc.at), tc.size, tc.good)
	}
	change("d3/f3", "cut\n")
	data := read()
	if err := os.WriteFile(h.treesPath(), data[:len(data)-10], 0o600); err != nil {
		t.Fatal(err)
	}
	if tc := h.loadTrees(); len(tc.at) != 41 || tc.good == tc.size {
		t.Fatalf("an append cut short left %d trees, %d good bytes of %d; want the 41 before it", len(tc.at), tc.good, tc.size)
	}
	change("d4/f4", "after the cut\n")
	if tc := h.loadTrees(); len(tc.at) != 41 || tc.good != tc.size {
		t.Fatalf("after an append cut short the next apply left %d trees, %d good bytes of %d; want the 41 listed, written afresh", len(tc.at), tc.good, tc.size)
	}
}

// A batch written whole is streamed: writing one of 20,000 entries
// allocates a small part of its size (the body built in memory, then
// copied twice, was three times it), and it reads back as written.
func TestTreeCacheWritesStreamed(t *testing.T) {
	trees := map[string][]compile.TreeEntry{}
	var hashes []string
	for d := range 200 {
		es := make([]compile.TreeEntry, 100)
		for i := range es {
			es[i] = compile.TreeEntry{Name: fmt.Sprintf("f%d", d*100+i), Type: compile.EntryFile, Known: i%2 == 0}
			es[i].Git[0], es[i].Git[1] = byte(d), byte(i)
			if es[i].Known {
				es[i].Sum[0] = byte(i)
			}
		}
		es[0].Type, es[0].To = compile.EntryLink, "target"
		h := fmt.Sprintf("%040x", d+1)
		trees[h], hashes = es, append(hashes, h)
	}
	tc, recs := handed(t, trees, hashes)
	var buf bytes.Buffer
	if err := writeTrees(&buf, recs, tc); err != nil {
		t.Fatal(err)
	}
	size := buf.Len()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if err := writeTrees(io.Discard, recs, tc); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > uint64(size/8) {
		t.Fatalf("writing a %d-byte batch allocated %d bytes", size, n)
	}
	file := filepath.Join(t.TempDir(), "trees")
	if err := os.WriteFile(file, append(append([]byte{}, treesMagic...), buf.Bytes()...), 0o600); err != nil {
		t.Fatal(err)
	}
	tc = loadTreesFile(file)
	defer tc.close()
	if len(tc.at) != len(trees) || tc.entries != 20000 || tc.good != tc.size {
		t.Fatalf("the batch reads back as %d trees of %d entries, %d good bytes of %d", len(tc.at), tc.entries, tc.good, tc.size)
	}
	for h, es := range trees {
		if got, ok := tc.tree(h); !ok || !reflect.DeepEqual(got, es) {
			t.Fatalf("tree %s reads back otherwise than written", h)
		}
	}
	if key, ok := tc.known(fmt.Sprintf("%02x%02x%036x", 7, 2, 0)); !ok || key != "sha256:02"+strings.Repeat("0", 62) {
		t.Fatalf("the blob of d7's third file is known as %q, %v", key, ok)
	}
	if _, ok := tc.known(fmt.Sprintf("%02x%02x%036x", 7, 3, 0)); ok {
		t.Fatal("a blob the batch does not know is known")
	}
	// A record changed in the file since it was loaded (which no trail
	// does: it appends or renames) is not cached any more.
	h8 := fmt.Sprintf("%040x", 8)
	a, _ := tc.atHex(h8)
	f, err := os.OpenFile(file, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("g"), int64(a.end)-1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	tc.last = nil
	if _, ok := tc.tree(h8); ok {
		t.Fatal("a tree whose record changed since the load is still cached")
	}
	if _, ok := tc.known(fmt.Sprintf("%02x%02x%036x", 7, 98, 0)); ok {
		t.Fatal("a blob of a tree whose record changed since the load is still known")
	}
	if _, ok := tc.tree(fmt.Sprintf("%040x", 9)); !ok {
		t.Fatal("a tree beside the changed one is not cached")
	}
}

// A tree the cache holds with an entry a block excluded, and so left
// unhashed, is resolved again once a block takes that entry: the cache
// keeps the new resolution, so the next pull does not read the blob again.
func TestTreeCacheKeepsTreeResolvedAgain(t *testing.T) {
	site := "tree \"www\" {\n  path = \"/etc/www\"\n  source = \"www\"\n%s}\n"
	dir := testCheckout(t, fmt.Sprintf(site, "  exclude = [\"*.tmp\"]\n"))
	if err := os.MkdirAll(filepath.Join(dir, "www"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{"a.txt": "a\n", "b.tmp": "b\n"} {
		if err := os.WriteFile(filepath.Join(dir, "www", name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	commitSite(t, dir, fmt.Sprintf(site, "  exclude = [\"*.tmp\"]\n"), "www")
	var out bytes.Buffer
	h := appliedHost(t, dir, &out)
	commitSite(t, dir, fmt.Sprintf(site, ""), "take b.tmp")
	if _, err := h.Apply(context.Background(), ApplyOptions{}); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	www, err := exec.Command("git", "-C", dir, "rev-parse", "HEAD:www").Output()
	if err != nil {
		t.Fatal(err)
	}
	tc := h.loadTrees()
	defer tc.close()
	es, ok := tc.tree(strings.TrimSpace(string(www)))
	if !ok || len(es) != 2 {
		t.Fatalf("the cache gives www as %v, %v; want its 2 entries", es, ok)
	}
	for _, e := range es {
		if !e.Known {
			t.Fatalf("the cache holds %s of www unhashed after an apply that took it", e.Name)
		}
	}
}

// A compile that fails closes the trees cache it opened: trail watch
// compiles each new commit in one process, and would hold one more
// descriptor of the cache for each that does not compile.
func TestTreeCacheClosedWhenCompileFails(t *testing.T) {
	site := "tree \"www\" {\n  path = \"/etc/www\"\n  source = \"www\"\n}\n"
	dir := testCheckout(t, site)
	if err := os.MkdirAll(filepath.Join(dir, "www"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "www", "a.txt"), []byte("a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	commitSite(t, dir, site, "www")
	var out bytes.Buffer
	h := appliedHost(t, dir, &out)
	commitSite(t, dir, site+"tree \"bad\" {\n", "does not parse")
	if _, err := h.compileToApply("HEAD"); err == nil {
		t.Fatal("a config that does not parse compiled")
	}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		if to, _ := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); to == h.treesPath() {
			t.Fatalf("descriptor %s still holds %s after the compile failed", fd.Name(), to)
		}
	}
}

// Two trails may save the cache at once (a hook's pull and trail watch
// compile and stage outside the state lock): an append cut short by a
// crash may be followed by the other's whole batch. The load takes the
// batches before the damaged one, never one after it, and leaves the file
// to be written afresh; a cache loaded before another trail replaced the
// file reads its trees from the file it opened, as they were written.
func TestTreeCacheBatchAfterDamage(t *testing.T) {
	tree := func(i int) (string, map[string][]compile.TreeEntry) {
		h := fmt.Sprintf("%040x", i)
		es := []compile.TreeEntry{{Name: fmt.Sprintf("f%d", i), Type: compile.EntryFile, Known: true}}
		es[0].Git[0], es[0].Sum[0] = byte(i), byte(i)
		return h, map[string][]compile.TreeEntry{h: es}
	}
	batch := func(i int) []byte {
		var b bytes.Buffer
		h, trees := tree(i)
		tc, recs := handed(t, trees, []string{h})
		if err := writeTrees(&b, recs, tc); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	file := filepath.Join(t.TempDir(), "trees")
	good := append(append([]byte{}, treesMagic...), batch(1)...)
	torn := batch(2)
	data := append(append(append([]byte{}, good...), torn[:len(torn)-5]...), batch(3)...)
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	tc := loadTreesFile(file)
	defer tc.close()
	if len(tc.at) != 1 || tc.good != int64(len(good)) || tc.size != int64(len(data)) {
		t.Fatalf("a cache with a batch cut short, then a whole one, gave %d trees and %d good bytes of %d; want 1 tree, %d good", len(tc.at), tc.good, tc.size, len(good))
	}
	h1, want := tree(1)
	if es, ok := tc.tree(h1); !ok || !reflect.DeepEqual(es, want[h1]) {
		t.Fatalf("tree 1 reads back as %v, %v; want %v", es, ok, want[h1])
	}
	if h3, _ := tree(3); func() bool { _, ok := tc.tree(h3); return ok }() {
		t.Fatal("the batch after a damaged one was read")
	}

	if err := os.WriteFile(file+".new", append(append([]byte{}, treesMagic...), batch(4)...), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(file+".new", file); err != nil {
		t.Fatal(err)
	}
	if es, ok := tc.tree(h1); !ok || !reflect.DeepEqual(es, want[h1]) {
		t.Fatalf("after the file was replaced, tree 1 reads back as %v, %v; want %v", es, ok, want[h1])
	}
}

// The blob index finds a file's entry where it is in its tree's record,
// not by walking the record from its start: a lookup of each file of a
// directory of 50,000 (the first pull after one of them changed) that
// walked took 15 s, and takes 27 ms.
func TestTreeCacheBlobIndexFindsEntry(t *testing.T) {
	es := make([]compile.TreeEntry, 5000)
	for i := range es {
		es[i] = compile.TreeEntry{Name: fmt.Sprintf("f%05d", i), Type: compile.EntryFile, Known: i%3 != 0}
		es[i].Git[0], es[i].Git[1], es[i].Sum[0], es[i].Sum[1] = byte(i>>8), byte(i), byte(i>>8), byte(i)
	}
	h := fmt.Sprintf("%040x", 1)
	b := bytes.NewBuffer(append([]byte{}, treesMagic...))
	pend, recs := handed(t, map[string][]compile.TreeEntry{h: es}, []string{h})
	if err := writeTrees(b, recs, pend); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "trees")
	if err := os.WriteFile(file, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	tc := loadTreesFile(file)
	defer tc.close()
	for i := range es {
		key, ok := tc.known(hex.EncodeToString(es[i].Git[:]))
		if want := "sha256:" + hex.EncodeToString(es[i].Sum[:]); ok != es[i].Known || ok && key != want {
			t.Fatalf("blob of %s is known as %q, %v; want %q, %v", es[i].Name, key, ok, want, es[i].Known)
		}
	}
	for i, e := range tc.blobs {
		rec := tc.record(tc.recs[e.rec])
		r := &treeReader{data: rec, off: int(e.ent), end: len(rec)}
		if _, _, _, git, _, _, _ := r.entry(); r.bad || binary.BigEndian.Uint64(rec[git:git+8]) != e.key {
			t.Fatalf("index key %d names an entry at %d that is not its blob's", i, e.ent)
		}
		if i > 0 && tc.blobs[i-1].key > e.key {
			t.Fatalf("index keys %d and %d are out of order", i-1, i)
		}
	}
}

// handed is a cache handed the trees named hashes as a compile hands them
// over (compile.Options.Resolved), and where their records are.
func handed(t *testing.T, trees map[string][]compile.TreeEntry, hashes []string) (*treeCache, []treeAt) {
	t.Helper()
	tc := &treeCache{at: map[[20]byte]treeAt{}, dir: t.TempDir()}
	t.Cleanup(tc.close)
	var recs []treeAt
	for _, h := range hashes {
		tc.resolved(h, trees[h])
		a, ok := tc.atHex(h)
		if !ok || !a.pend {
			t.Fatalf("tree %s was not written to the pending file", h)
		}
		recs = append(recs, a)
	}
	return tc, recs
}

// A tree a compile handed to the cache is given back from the cache's
// pending file when a later block lists it again: a second block over
// the same source that excludes some files finds them known and does not
// hand over a tree that knows less, so the next compile reads no blob.
func TestTreeCacheGivesBackHandedTrees(t *testing.T) {
	site := "tree \"all\" {\n  path = \"/etc/all\"\n  source = \"www\"\n}\n" +
		"tree \"some\" {\n  path = \"/etc/some\"\n  source = \"www\"\n  exclude = [\"*.tmp\"]\n}\n"
	dir := testCheckout(t, site)
	for i := 0; i < 12; i++ {
		p := filepath.Join(dir, "www", fmt.Sprintf("d%d", i%2), fmt.Sprintf("f%d.tmp", i))
		if i%3 == 0 {
			p = strings.TrimSuffix(p, ".tmp")
		}
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, fmt.Appendf(nil, "page %d\n", i), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gitIn(t, dir, "add", "-A")
	gitIn(t, dir, "commit", "-q", "-m", "tree")
	var out bytes.Buffer
	h := appliedHost(t, dir, &out)
	commitSite(t, dir, site+"# the same trees\n", "comment")
	c, err := h.compileToApply("HEAD")
	if err != nil {
		t.Fatal(err)
	}
	defer c.trees.close()
	if c.Learned != 0 || c.Resolved != 0 {
		t.Fatalf("a compile of unchanged trees read %d blobs and %d trees; want none", c.Learned, c.Resolved)
	}
}
