package compile

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"trail/gitrepo"
	"trail/gitrepo/gittest"
	"trail/stepfmt"
)

// A compile that takes the keys of unchanged blobs from what earlier
// compiles learned equals a full compile, commit after commit of random
// edits, additions, removals and mode changes; and it reads only the blobs
// it did not know.
func TestKnownBlobsEqualFullCompile(t *testing.T) {
	g := gittest.New(t)
	rnd := rand.New(rand.NewPCG(1, 2))
	live := map[string]bool{}
	files := map[string]string{"main.hcl": "tree \"www\" {\n  path = \"/srv/www\"\n  source = \"www\"\n  exclude = [\"*.tmp\"]\n}\n"}
	for i := 0; i < 300; i++ {
		p := fmt.Sprintf("www/d%d/f%d", i%7, i)
		files[p], live[p] = fmt.Sprintf("v0 %d\n", i%50), true
	}
	g.Write(files)
	repo, err := gitrepo.Open(g.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	memo := map[string]string{}
	known := func(h string) (string, bool) { k, ok := memo[h]; return k, ok }
	for round := 0; round < 12; round++ {
		if round > 0 {
			edits := map[string]string{}
			for j := 0; j < 1+rnd.IntN(20); j++ {
				switch n := rnd.IntN(300); rnd.IntN(4) {
				case 0:
					p := fmt.Sprintf("www/d%d/f%d", n%7, n)
					edits[p], live[p] = fmt.Sprintf("v%d %d\n", round, n%30), true
				case 1:
					p := fmt.Sprintf("www/new%d/g%d", n%3, n)
					edits[p], live[p] = fmt.Sprintf("v0 %d\n", n%50), true
				case 2:
					edits[fmt.Sprintf("www/d%d/x%d.tmp", n%7, n)] = "excluded\n"
				case 3:
					p := fmt.Sprintf("www/d%d/f%d", n%7, n)
					if live[p] && edits[p] == "" {
						g.Remove(p)
						delete(live, p)
					}
				}
			}
			g.Write(edits)
		}
		commit := g.Commit(fmt.Sprintf("round %d", round))
		tree, err := repo.Tree(commit)
		if err != nil {
			t.Fatal(err)
		}
		full, diags := Compile(tree, testFacts(), Options{Commit: commit})
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		inc, diags := Compile(tree, testFacts(), Options{Commit: commit, LazyTree: true, KnownBlob: known})
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		if a, b := stepfmt.Format(full.List), stepfmt.Format(inc.List); !bytes.Equal(a, b) {
			t.Fatalf("round %d: the incremental list differs from the full one:\n%s\nvs\n%s", round, b, a)
		}
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range inc.Refs {
				if !yield(k) {
					return
				}
			}
		})
		if len(keys) != len(full.Blobs) {
			t.Fatalf("round %d: %d contents referenced, want %d", round, len(keys), len(full.Blobs))
		}
		for _, k := range keys {
			if got, err := inc.ReadBlob(tree, k); err != nil || !bytes.Equal(got, full.Blobs[k]) {
				t.Fatalf("round %d: content %s: %q, %v; want %q", round, k, got, err, full.Blobs[k])
			}
		}
		if round > 0 && len(inc.Learned) >= len(live)/2 {
			t.Errorf("round %d: read %d blobs of %d files: the unchanged ones were read again", round, len(inc.Learned), len(live))
		}
		for h, k := range inc.Learned {
			memo[h] = k
		}
	}
}
