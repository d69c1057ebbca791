package stepfmt

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// The index finds what a map keyed by namespace and target finds: the
// first step of each identity, a later one as its duplicate, and nothing
// for an identity no step has.
func TestIndexAsMap(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 6))
	kinds := []Kind{KindFile, KindDir, KindLink, KindUser, KindGroup, KindPackage}
	var steps []*Step
	for i := 0; i < 3000; i++ {
		k := kinds[rnd.IntN(len(kinds))]
		target := fmt.Sprintf("n%d", rnd.IntN(1500))
		if IsPath(k) {
			target = "/srv/" + target
		}
		steps = append(steps, &Step{Kind: k, Target: target})
	}
	type key struct{ ns, target string }
	want := map[key]int{}
	x := NewIndex(len(steps), func(i int) *Step { return steps[i] })
	for i, s := range steps {
		k := key{Namespace(s.Kind), s.Target}
		j, dup := x.Add(i)
		first, seen := want[k]
		if dup != seen || (seen && j != first) || (!seen && j != i) {
			t.Fatalf("step %d %s: Add gives %d, %v; want %d, %v", i, s.ID(), j, dup, first, seen)
		}
		if !seen {
			want[k] = i
		}
	}
	for _, ns := range []string{"path", "user", "group", "package"} {
		for n := 0; n < 1600; n++ {
			for _, target := range []string{fmt.Sprintf("n%d", n), fmt.Sprintf("/srv/n%d", n)} {
				j, ok := x.Find(ns, target)
				first, seen := want[key{ns, target}]
				if ok != seen || (ok && j != first) {
					t.Fatalf("find %s %s: %d, %v; want %d, %v", ns, target, j, ok, first, seen)
				}
			}
		}
	}
}
