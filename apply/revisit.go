package apply

import (
	"strconv"

	"trail/apply/kind"
	"trail/stepfmt"
)

// revisits returns the steps of l that the diff found unchanged but that
// the plan must check against the machine again:
//
//   - a DIR, FILE or LINK whose owner or group is a name of an account a
//     USER or GROUP change of the plan touches. The number the name stood
//     for was written when the path was applied; a fresh apply would
//     resolve it after the account changed (a gid moved, a group given
//     back as it was before trail), so the path must be looked at again
//     to stay path independent (DESIGN invariant 1). A USER change counts
//     for a group of its name too: useradd makes one.
//   - with redo set, every step whose target drifted from what trail
//     wrote and whose record redo accepts (Heal, Apply with Meta.Force;
//     redo is given its identity, policy and what trail wrote, not its
//     origin).
//
// A target that cannot be read is an error at its step's source.
func revisits(x *kind.Exec, l *stepfmt.List, cur *current, p *stepfmt.Plan, redo func(*kind.Record) bool) (map[stepfmt.ID]bool, stepfmt.ErrorList) {
	// changed is made only when asked: a first apply's plan changes every
	// step, and a map of 100,000 identities takes 5 MB.
	var changed map[stepfmt.ID]bool
	isChanged := func(id stepfmt.ID) bool {
		if changed == nil {
			changed = make(map[stepfmt.ID]bool, len(p.Changes))
			for _, c := range p.Changes {
				changed[c.Step.ID()] = true
			}
		}
		return changed[id]
	}
	again := make(map[stepfmt.ID]bool)
	var errs stepfmt.ErrorList
	// rec holds what redo and the drift check read of each record (its
	// policy and what trail wrote), parsed without the rest.
	rec := &kind.Record{}
	for _, s := range l.Steps {
		if redo == nil {
			break
		}
		id := s.ID()
		row := handlerOf(s.Kind)
		if isChanged(id) || row == nil {
			continue
		}
		policy, wrote, ok := cur.applied.Wrote(id)
		if *rec = (kind.Record{ID: id, Policy: policy, Wrote: wrote}); !ok || !redo(rec) {
			continue
		}
		now, err := row.h.Drift(x, s.Target, rec.Wrote)
		if err != nil {
			errs = append(errs, &stepfmt.Error{Src: s.Src, Kind: s.Kind, Target: s.Target, Msg: "reading it: " + err.Error()})
			continue
		}
		if !now.Equal(rec.Wrote) {
			again[id] = true
		}
	}
	users, groups := map[string]bool{}, map[string]bool{}
	account := func(s *stepfmt.Step) {
		switch s.Kind {
		case stepfmt.KindUser:
			users[s.Target], groups[s.Target] = true, true
		case stepfmt.KindGroup:
			groups[s.Target] = true
		}
	}
	for _, c := range p.Changes {
		account(c.Step)
	}
	for _, s := range l.Steps {
		if again[s.ID()] {
			account(s)
		}
	}
	if len(users)+len(groups) > 0 {
		for _, s := range l.Steps {
			if id := s.ID(); (names(s, "owner", users) || names(s, "group", groups)) && !isChanged(id) {
				again[id] = true
			}
		}
	}
	return again, errs
}

// names reports whether a path step's attribute key (owner or group) is a
// name in set rather than a number.
func names(s *stepfmt.Step, key string, set map[string]bool) bool {
	switch s.Kind {
	case stepfmt.KindDir, stepfmt.KindFile, stepfmt.KindLink, stepfmt.KindAttrs:
	default:
		return false
	}
	v, ok := s.Get(key)
	if !ok || !set[v] {
		return false
	}
	_, err := strconv.ParseUint(v, 10, 32)
	return err != nil
}

// withRevisits returns p with the steps in again planned as modifies of
// themselves, in the order of l among its added and modified steps.
func withRevisits(p *stepfmt.Plan, l *stepfmt.List, cur *current, again map[stepfmt.ID]bool) *stepfmt.Plan {
	old := make(map[stepfmt.ID]*stepfmt.Step, len(again))
	for _, s := range cur.list.Steps {
		if again[s.ID()] {
			old[s.ID()] = s
		}
	}
	forward := make(map[stepfmt.ID]stepfmt.Change, len(p.Changes))
	out := &stepfmt.Plan{Unchanged: p.Unchanged - len(again), Changes: make([]stepfmt.Change, 0, len(p.Changes)+len(again))}
	for _, c := range p.Changes {
		if c.Op == stepfmt.OpRemove {
			out.Changes = append(out.Changes, c)
		} else {
			forward[c.Step.ID()] = c
		}
	}
	for _, s := range l.Steps {
		id := s.ID()
		if c, ok := forward[id]; ok {
			out.Changes = append(out.Changes, c)
		} else if again[id] {
			out.Changes = append(out.Changes, stepfmt.Change{Op: stepfmt.OpModify, Step: s, Old: old[id]})
		}
	}
	return out
}

// dropMatching takes the revisits whose check found the target matching
// out of p again: they stay unchanged.
func dropMatching(p *Plan, again map[stepfmt.ID]bool, idle []bool) {
	n := 0
	for i, c := range p.Changes {
		if c.Op == stepfmt.OpModify && again[c.Step.ID()] && idle[i] {
			p.Unchanged++
			continue
		}
		p.Changes[n] = c
		if p.Work != nil {
			p.Work[n] = p.Work[i]
		}
		n++
	}
	p.Changes = p.Changes[:n]
	if p.Work != nil {
		p.Work = p.Work[:n]
	}
}
