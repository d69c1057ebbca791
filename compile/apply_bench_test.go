package compile

import (
	"runtime"
	"testing"

	"trail/gitrepo"
)

// BenchmarkCompileFirstApply compiles the big repository (FILES files,
// 100,000 by default) as a host's first apply does: lazily, every resolved
// tree and every content read handed over, nothing held. It reports the
// allocations per file of the tree besides -benchmem's per compile; the
// repository is opened afresh for each compile, as an apply opens it.
func BenchmarkCompileFirstApply(b *testing.B) {
	br := makeBigRepo(b)
	b.ReportAllocs()
	handed, read := 0, 0
	opts := Options{Commit: br.first, LazyTree: true, NoRepoPaths: true,
		Resolved: func(string, []TreeEntry) { handed++ },
		Read:     func(string, []byte) { read++ }}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for b.Loop() {
		repo, err := gitrepo.Open(br.g.Dir)
		if err != nil {
			b.Fatal(err)
		}
		fsys, err := repo.Tree(br.first)
		if err != nil {
			b.Fatal(err)
		}
		handed, read = 0, 0
		res, diags := Compile(fsys, testFacts(), opts)
		if diags.HasErrors() || len(res.List.Steps) != br.files+br.files/100+1 || read != br.files || handed == 0 {
			b.Fatalf("compile: %v, %d steps, %d contents read, %d trees handed", diags, len(res.List.Steps), read, handed)
		}
		repo.Close()
	}
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(b.N)/float64(br.files), "allocs/file")
}
