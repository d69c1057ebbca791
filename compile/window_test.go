package compile

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
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
