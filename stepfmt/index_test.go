package stepfmt

import (
	"fmt"
	"math/rand/v2"
	"strings"
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

// tHash by table takes and canonicalises exactly what a byte-by-byte
// check did.
func TestHashCheckAsBefore(t *testing.T) {
	before := func(s string) (string, error) {
		h, ok := strings.CutPrefix(s, "sha256:")
		lower := true
		for i := 0; ok && i < len(h); i++ {
			c := h[i]
			lower = lower && !(c >= 'A' && c <= 'F')
			ok = c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
		}
		if !ok || len(h) != 64 {
			return "", fmt.Errorf("content %q is not sha256: followed by 64 hex digits", s)
		}
		if lower {
			return s, nil
		}
		return "sha256:" + strings.ToLower(h), nil
	}
	rnd := rand.New(rand.NewPCG(7, 8))
	alphabet := "0123456789abcdefABCDEFgG:/ \x00\xff"
	cases := []string{"", "sha256:", testHash, strings.ToUpper(testHash), "SHA256:" + testHash[7:], testHash + "0", testHash[:70]}
	for i := 0; i < 20000; i++ {
		b := []byte(testHash)
		for j := rnd.IntN(3); j > 0; j-- {
			b[rnd.IntN(len(b))] = alphabet[rnd.IntN(len(alphabet))]
		}
		cases = append(cases, string(b[:len(b)-rnd.IntN(2)]))
	}
	for _, c := range cases {
		got, gerr := tHash(c)
		want, werr := before(c)
		if got != want || fmt.Sprint(gerr) != fmt.Sprint(werr) {
			t.Fatalf("tHash(%q) = %q, %v; want %q, %v", c, got, gerr, want, werr)
		}
	}
}
