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

// FuzzIndex: whatever the steps (each line of data one step, its first
// byte the kind, the rest the target, empty included), the index finds
// what a map keyed by namespace and target finds, for every target in
// every namespace.
func FuzzIndex(f *testing.F) {
	f.Add([]byte(""))
	f.Add([]byte("\x00\n\x00\n\x01\n\x05"))
	f.Add([]byte("\x00/a\n\x01/a\n\x02/a\n\x03a\n\x04a\n\x05a\n\x06a\n\x07a\n\x08a\n\x09a\n\x0aa\n\x0ba\n\x0ca\n\x0da"))
	f.Add([]byte("\x00/x/y\n\x01/x\n\x00/x/y\n\x03u\n\x03u\n\x04u"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var steps []*Step
		for _, line := range strings.Split(string(data), "\n") {
			if line == "" {
				continue
			}
			k := Kind("X")
			if int(line[0]) < len(kinds) {
				k = kinds[line[0]].kind
			}
			steps = append(steps, &Step{Kind: k, Target: line[1:]})
		}
		type key struct{ ns, target string }
		want := map[key]int{}
		x := NewIndex(len(steps), func(i int) *Step { return steps[i] })
		for i, s := range steps {
			k := key{Namespace(s.Kind), s.Target}
			j, dup := x.Add(i)
			first, seen := want[k]
			if !seen {
				first = i
				want[k] = i
			}
			if dup != seen || j != first {
				t.Fatalf("step %d %s %q: Add gives %d, %v; want %d, %v", i, s.Kind, s.Target, j, dup, first, seen)
			}
		}
		for _, s := range append(steps, &Step{Kind: "Y", Target: "absent"}) {
			for _, ns := range []string{"path", "user", "group", "package", "command", "unit", "check", "include", "X", "Y", ""} {
				j, ok := x.Find(ns, s.Target)
				first, seen := want[key{ns, s.Target}]
				if ok != seen || j != first {
					t.Fatalf("find %s %q: %d, %v; want %d, %v", ns, s.Target, j, ok, first, seen)
				}
			}
		}
	})
}

// LastFind answers as Find does, over random runs of repeated and
// changing targets, in two namespaces.
func TestLastFindAnswersAsFind(t *testing.T) {
	var steps []*Step
	for i := 0; i < 50; i++ {
		steps = append(steps, &Step{Kind: KindUser, Target: fmt.Sprintf("u%d", i%20)}, &Step{Kind: KindGroup, Target: fmt.Sprintf("u%d", i%30)})
	}
	x := NewIndex(len(steps), func(i int) *Step { return steps[i] })
	for i := range steps {
		x.Add(i)
	}
	rnd := rand.New(rand.NewPCG(9, 10))
	var users, groups LastFind
	for n := 0; n < 2000; n++ {
		name := fmt.Sprintf("u%d", rnd.IntN(40))
		for r := rnd.IntN(3); r >= 0; r-- {
			for _, c := range []struct {
				ns   string
				last *LastFind
			}{{"user", &users}, {"group", &groups}} {
				j, ok := c.last.Find(x, c.ns, name)
				wj, wok := x.Find(c.ns, name)
				if j != wj || ok != wok {
					t.Fatalf("%s %s: LastFind %d, %v; Find %d, %v", c.ns, name, j, ok, wj, wok)
				}
			}
		}
	}
}
