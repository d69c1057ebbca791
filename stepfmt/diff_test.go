package stepfmt

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// Diff matches steps by identity wherever they stand in the old list:
// on random pairs of lists (shuffled, some steps dropped, added, changed,
// or of another kind on the same path) it plans what matching through a
// map of every identity plans.
func TestDiffMatchesByIdentity(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 200; round++ {
		var old, new []*Step
		n := r.IntN(60)
		for i := 0; i < n; i++ {
			k := []Kind{KindFile, KindDir, KindLink}[r.IntN(3)]
			s := st(k, fmt.Sprintf("/p/%d", r.IntN(80)), "mode", "0644")
			if !containsID(old, s.ID()) {
				old = append(old, s)
			}
		}
		for _, s := range old {
			switch r.IntN(5) {
			case 0: // dropped
			case 1:
				new = append(new, st(s.Kind, s.Target, "mode", "0600"))
			default:
				new = append(new, st(s.Kind, s.Target, "mode", "0644"))
			}
		}
		for i := 0; i < r.IntN(10); i++ {
			if s := st(KindFile, fmt.Sprintf("/p/%d", 80+r.IntN(20)), "mode", "0644"); !containsID(new, s.ID()) {
				new = append(new, s)
			}
		}
		if round%2 == 1 {
			r.Shuffle(len(new), func(i, j int) { new[i], new[j] = new[j], new[i] })
		}
		got, want := planText(Diff(old, new)), planText(mapDiff(old, new))
		if got != want {
			t.Fatalf("round %d: plan\n%s\nwant\n%s", round, got, want)
		}
	}
}

func containsID(l []*Step, id ID) bool {
	for _, s := range l {
		if s.ID() == id {
			return true
		}
	}
	return false
}

func planText(p *Plan) string {
	out := fmt.Sprintf("unchanged %d\n", p.Unchanged)
	for _, c := range p.Changes {
		out += fmt.Sprintf("%s %s %v\n", c.Op, c.Step.ID(), c.Changed)
	}
	return out
}

// mapDiff is Diff as a map of every identity makes it.
func mapDiff(old, new []*Step) *Plan {
	idx := make(map[ID]int, len(old))
	for i, s := range old {
		idx[s.ID()] = i
	}
	matched := make([]bool, len(old))
	var adds []Change
	p := &Plan{}
	for _, s := range new {
		i, ok := idx[s.ID()]
		if !ok || matched[i] {
			adds = append(adds, Change{Op: OpAdd, Step: s})
			continue
		}
		matched[i] = true
		if old[i].SameAttrs(s) {
			p.Unchanged++
			continue
		}
		adds = append(adds, Change{Op: OpModify, Step: s, Old: old[i], Changed: changedKeys(old[i], s)})
	}
	for i := len(old) - 1; i >= 0; i-- {
		if !matched[i] {
			p.Changes = append(p.Changes, Change{Op: OpRemove, Step: old[i]})
		}
	}
	p.Changes = append(p.Changes, adds...)
	return p
}
