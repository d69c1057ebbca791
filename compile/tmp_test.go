package compile

import (
	"testing"

	"trail/gitrepo"
)

func BenchmarkTmpPull(b *testing.B) {
	br := makeBigRepo(b)
	trees := resolvedTrees(b, br)
	index := blobIndex(trees)
	repo, _ := gitrepo.Open(br.g.Dir)
	defer repo.Close()
	opts := Options{Commit: br.next, LazyTree: true}
	opts.Trees = func(h string) ([]TreeEntry, bool) { es, ok := trees[h]; return es, ok }
	_ = index
	b.ResetTimer()
	for i := 0; i < 8; i++ {
		fsys, _ := repo.Tree(br.next)
		if _, diags := Compile(fsys, testFacts(), opts); diags.HasErrors() {
			b.Fatal(diags)
		}
	}
}
