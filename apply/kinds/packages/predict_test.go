package packages

import (
	"slices"
	"testing"
)

const dependsOut = `trail-a
  Depends: trail-d
  Depends: libc6
 |Depends: trail-x
  Depends: <trail-virt>
    trail-y
    trail-z
  PreDepends: trail-p
  Recommends: trail-r
trail-d
trail-y
  Depends: <python3:any>
    python3
trail-x
`

func TestParseDepends(t *testing.T) {
	got := parseDepends(dependsOut)
	want := map[string][][]string{
		"trail-a": {{"trail-d"}, {"libc6"}, {"trail-x", "trail-y", "trail-z"}, {"trail-p"}, {"trail-r"}},
		"trail-d": nil, "trail-y": {{"python3"}}, "trail-x": nil,
	}
	if len(got) != len(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for name, groups := range want {
		g, ok := got[name]
		if !ok || !slices.EqualFunc(g, groups, slices.Equal) {
			t.Fatalf("%s: got %q, want %q", name, g, groups)
		}
	}
}

// The split of one simulation of a group: what each step's own
// simulation would bring.
func TestSplitBrings(t *testing.T) {
	fresh := func(names ...string) []simInst {
		var in []simInst
		for _, n := range names {
			in = append(in, simInst{name: n, version: "1", fresh: true})
		}
		return in
	}
	cases := map[string]struct {
		targets   []string
		inst      []simInst
		deps      map[string][][]string
		installed []string
		want      [][]string
		ok        bool
	}{
		"a shared new dependency is brought by both": {
			[]string{"a", "b"}, fresh("a", "b", "d", "e"),
			map[string][][]string{"a": {{"d"}, {"libc6"}}, "b": {{"d"}, {"e"}}, "d": {{"libc6"}}, "e": nil},
			[]string{"libc6:amd64"}, [][]string{{"d"}, {"d", "e"}}, true,
		},
		"a step another depends on is brought by it, with what it brings": {
			[]string{"a", "c"}, fresh("a", "c", "d"),
			map[string][][]string{"a": {{"d"}}, "c": {{"a"}}, "d": nil},
			nil, [][]string{{"d"}, {"a", "d"}}, true,
		},
		"an alternative installed satisfies the dependency": {
			[]string{"a", "b"}, fresh("a", "b", "x"),
			map[string][][]string{"a": {{"x"}}, "b": {{"x", "y"}}, "x": nil},
			[]string{"y"}, [][]string{{"x"}, nil}, true,
		},
		"a step's package changed by its own step is installed for the others": {
			[]string{"a", "b"}, append(fresh("b", "n"), simInst{name: "a", version: "2", fresh: false}),
			map[string][][]string{"a": {{"n"}}, "b": {{"a"}}, "n": nil},
			[]string{"a"}, [][]string{{"n"}, nil}, true,
		},
		"an upgrade a dependency needs is walked through": {
			[]string{"a", "b"}, append(fresh("a", "b", "n"), simInst{name: "lib", version: "2"}),
			map[string][][]string{"a": {{"lib"}}, "b": nil, "lib": {{"n"}}, "n": nil},
			[]string{"lib"}, [][]string{{"n"}, nil}, true,
		},
		"a new package no step reaches": {
			[]string{"a", "b"}, fresh("a", "b", "stray"),
			map[string][][]string{"a": nil, "b": nil, "stray": nil}, nil, nil, false,
		},
		"a package without its dependencies listed": {
			[]string{"a", "b"}, fresh("a", "b", "d"),
			map[string][][]string{"a": {{"d"}}, "b": nil}, nil, nil, false,
		},
		"a step apt installs nothing for brings nothing": {
			[]string{"a", "b"}, fresh("a", "d"), map[string][][]string{"a": {{"d"}}, "d": nil}, []string{"b"}, [][]string{{"d"}, nil}, true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			installed := map[string]bool{}
			for _, n := range tc.installed {
				installed[n] = true
			}
			per, ok := splitBrings(tc.targets, tc.inst, tc.deps, installed)
			if ok != tc.ok {
				t.Fatalf("ok %v, want %v (%q)", ok, tc.ok, per)
			}
			if ok && !slices.EqualFunc(per, tc.want, slices.Equal) {
				t.Fatalf("got %q, want %q", per, tc.want)
			}
		})
	}
}
