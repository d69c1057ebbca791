package host

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"testing"
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
	if n := len(h.loadTrees().trees); n != 6 {
		t.Fatalf("the cache holds %d trees after the first apply; want 6", n)
	}

	write("d0/f0", "changed\n")
	gitIn(t, dir, "commit", "-q", "-am", "one file")
	c, err := h.compileToApply("HEAD")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Learned) != 1 || c.Resolved != 2 || len(c.Trees) != 6 {
		t.Fatalf("compile of one changed file read %d blobs and %d trees of %d; want 1 blob, and 2 trees (www, www/d0) of 6", len(c.Learned), c.Resolved, len(c.Trees))
	}
	apply()
	if got, err := os.ReadFile(filepath.Join(h.Settings.root(), "etc/www/d0/f0")); err != nil || string(got) != "changed\n" {
		t.Fatalf("d0/f0 = %q, %v", got, err)
	}

	data, err := os.ReadFile(h.treesPath())
	if err != nil {
		t.Fatal(err)
	}
	// A cache a byte short or long, or of another format, is as empty as a
	// damaged one, and the whole file reads back as it was written.
	if trees, ok := readTrees(h.treesPath()); !ok || trees != string(data) {
		t.Fatalf("readTrees of the cache gave %d bytes, %v; want its %d", len(trees), ok, len(data))
	}
	for name, bad := range map[string][]byte{
		"short": data[:len(data)-1],
		"long":  append(append([]byte{}, data...), 0),
		"magic": append([]byte("trail trees 2\n"), data[len(treesMagic):]...),
		"tiny":  data[:len(treesMagic)+sha256.Size-1],
	} {
		if err := os.WriteFile(h.treesPath(), bad, 0o600); err != nil {
			t.Fatal(err)
		}
		if n := len(h.loadTrees().trees); n != 0 {
			t.Fatalf("a %s cache gave %d trees; want none", name, n)
		}
	}
	data[len(treesMagic)+25] ^= 0xff
	if err := os.WriteFile(h.treesPath(), data, 0o600); err != nil {
		t.Fatal(err)
	}
	if n := len(h.loadTrees().trees); n != 0 {
		t.Fatalf("a damaged cache gave %d trees; want none", n)
	}
	write("d1/f1", "changed too\n")
	gitIn(t, dir, "commit", "-q", "-am", "another")
	apply()
	if got, err := os.ReadFile(filepath.Join(h.Settings.root(), "etc/www/d1/f1")); err != nil || string(got) != "changed too\n" {
		t.Fatalf("d1/f1 = %q, %v", got, err)
	}
	if n := len(h.loadTrees().trees); n != 6 {
		t.Fatalf("the cache holds %d trees after an apply with a damaged one; want 6", n)
	}
}
