package compile

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"trail/gitrepo"
	"trail/gitrepo/gittest"
	"trail/stepfmt"
)

// windowTree lays out n entries (files and the directories above them)
// under www, nested up to three deep, so that directories and their files
// fall on every side of the walk's window boundaries.
func windowTree(n int) map[string]string {
	files := map[string]string{}
	dirs := map[string]bool{}
	for i := 0; len(files)+len(dirs) < n; i++ {
		p := fmt.Sprintf("a%02d/b%d/c%d/f%04d", i/97, i/13%3, i/7%2, i)
		var fresh []string
		for d := filepath.Dir(p); d != "."; d = filepath.Dir(d) {
			if !dirs[d] {
				fresh = append(fresh, d)
			}
		}
		if len(files)+len(dirs)+1+len(fresh) > n {
			p, fresh = fmt.Sprintf("top%04d", i), nil
		}
		for _, d := range fresh {
			dirs[d] = true
		}
		files["www/"+p] = fmt.Sprintf("content %d\n", i%300)
	}
	return files
}

// A tree's steps are its entries in walk order, each with its own
// content, whatever the number of entries against the window (one short,
// exactly one, one over, two, two and one over): checked against a walk
// of the checkout, and the same list byte for byte whether the contents
// are read (a full compile), named (a lazy one) or the trees come from
// the lazy compile's resolution.
func TestTreeWindowBoundaries(t *testing.T) {
	for _, n := range []int{treeWindow - 1, treeWindow, treeWindow + 1, 2 * treeWindow, 2*treeWindow + 1} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			g := gittest.New(t)
			files := windowTree(n)
			files["main.hcl"] = "tree \"www\" {\n  path = \"/srv/www\"\n  source = \"www\"\n}\n"
			g.Write(files)
			commit := g.Commit("tree")
			type want struct {
				kind    stepfmt.Kind
				target  string
				content string
			}
			var walk []want
			err := filepath.WalkDir(filepath.Join(g.Dir, "www"), func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				rel, _ := filepath.Rel(filepath.Join(g.Dir, "www"), p)
				target := filepath.Join("/srv/www", rel)
				if d.IsDir() {
					walk = append(walk, want{stepfmt.KindDir, target, ""})
					return nil
				}
				data, err := os.ReadFile(p)
				sum := sha256.Sum256(data)
				walk = append(walk, want{stepfmt.KindFile, target, "sha256:" + hex.EncodeToString(sum[:])})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(walk) != n+1 {
				t.Fatalf("the tree has %d entries, want %d and its root", len(walk)-1, n)
			}
			repo, err := gitrepo.Open(g.Dir)
			if err != nil {
				t.Fatal(err)
			}
			defer repo.Close()
			compile := func(opts Options) []byte {
				t.Helper()
				tree, err := repo.Tree(commit)
				if err != nil {
					t.Fatal(err)
				}
				opts.Commit = commit
				res, diags := Compile(tree, testFacts(), opts)
				if diags.HasErrors() {
					t.Fatal(diags)
				}
				if len(res.List.Steps) != len(walk) {
					t.Fatalf("%d steps, want %d", len(res.List.Steps), len(walk))
				}
				for i, s := range res.List.Steps {
					content, _ := s.Get("content")
					if w := walk[i]; s.Kind != w.kind || s.Target != w.target || content != w.content {
						t.Fatalf("step %d is %s %s %s; want %s %s %s", i, s.Kind, s.Target, content, w.kind, w.target, w.content)
					}
				}
				return stepfmt.Format(res.List)
			}
			full := compile(Options{})
			lazy := compile(Options{LazyTree: true})
			tree, _ := repo.Tree(commit)
			first, _ := Compile(tree, testFacts(), Options{Commit: commit, LazyTree: true})
			again := compile(Options{LazyTree: true, Trees: func(h string) ([]TreeEntry, bool) {
				es, ok := first.Trees[h]
				return es, ok
			}})
			if !bytes.Equal(full, lazy) || !bytes.Equal(full, again) {
				t.Fatalf("the lists differ:\n%s\nlazy:\n%s\nfrom resolved trees:\n%s", full, lazy, again)
			}
		})
	}
}

// A window holds the contents it read up to windowBytes, and the files
// its readers were reading as it passed that (one a reader): a tree of
// big files is made steps a few files at a time, not a window of 512 at
// once (a window of 100 MB files needed 50 GB). Measured as the live heap
// after a collection each time the compile hands a content over, above
// what was live before: 48 MiB held whole before the bound.
func TestTreeWindowBoundsBytes(t *testing.T) {
	const files, size = 48, 1 << 20
	g := gittest.New(t)
	tree := map[string]string{"main.hcl": "tree \"www\" {\n  path = \"/srv/www\"\n  source = \"www\"\n}\n"}
	for i := range files {
		tree[fmt.Sprintf("www/f%02d", i)] = strings.Repeat(fmt.Sprintf("file %02d\n", i), size/8)
	}
	g.Write(tree)
	clear(tree)
	commit := g.Commit("big files")
	repo, err := gitrepo.Open(g.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	fsys, err := repo.Tree(commit)
	if err != nil {
		t.Fatal(err)
	}
	base := liveNow()
	var peak uint64
	handed := 0
	read := func(key string, data []byte) {
		if len(data) != size {
			t.Errorf("handed %d bytes as %s; want %d", len(data), key, size)
		}
		handed++
		peak = max(peak, liveNow())
	}
	res, diags := Compile(fsys, testFacts(), Options{Commit: commit, LazyTree: true, Read: read})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if handed != files || len(res.List.Steps) != files+1 {
		t.Fatalf("handed %d contents, made %d steps; want %d and %d", handed, len(res.List.Steps), files, files+1)
	}
	fsys, _ = repo.Tree(commit)
	full, diags := Compile(fsys, testFacts(), Options{Commit: commit})
	if a, b := stepfmt.Format(full.List), stepfmt.Format(res.List); diags.HasErrors() || !bytes.Equal(a, b) {
		t.Fatalf("the list of the window read a few files at a time differs from the full compile's (%v):\n%s\nvs\n%s", diags, b, a)
	}
	readers := min(runtime.GOMAXPROCS(0), 8)
	held := peak - min(peak, base)
	t.Logf("%d readers: held %d KiB at most", readers, held>>10)
	if most := uint64(windowBytes + (readers+2)*size); held > most {
		t.Fatalf("the compile held %d KiB while it made steps of %d files of %d KiB; want at most %d KiB (%d KiB and a file a reader, with %d readers)",
			held>>10, files, size>>10, most>>10, windowBytes>>10, readers)
	}
}
