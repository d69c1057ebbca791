package packages

import (
	"slices"
	"strings"

	"trail/apply/kind"
	"trail/stepfmt"
)

// A block declaring a package an install of trail upgraded as its
// dependency may have recorded it before that install, at its old
// version (declared first, or in the same commit): its origin knows
// nothing of what the new version's scripts made, which the install's
// record names (depmarks "NAME:user:X"...). When the install goes and the
// block keeps the package at the new version (it pins it), the install's
// record, and with it that knowledge, is gone: the block's origin takes
// it then (TakeOrigin), as a fresh apply of the block records it, so that
// its reverse takes the accounts and links when it puts the old version
// back. A block the diff leaves unchanged is planned as a modify of
// itself for it (planHandovers): its check finds nothing to do on the
// machine, and its record is written with the apply's others.

// TakeOrigin returns the origin of s's record once the plan's PKG
// removals are made: with the marks a going install's record names for
// its package when the package stays upgraded (kind.OriginTaker).
func (Package) TakeOrigin(v *kind.View, s *stepfmt.Step, origin kind.Image) (kind.Image, error) {
	r, _ := v.Exec().Kept(pkgRemovalKey{}).(*pkgRemoval)
	if r == nil || origin.State != Installed {
		return origin, nil
	}
	o, err := Unpack(origin)
	if err != nil {
		return origin, err
	}
	name := baseName(s.Target)
	took := false
	for _, g := range r.going {
		gone, err := Unpack(g.img)
		if err != nil {
			return origin, err
		}
		for _, u := range append(kind.SplitNames(gone.upgraded), kind.SplitNames(gone.upgrades)...) {
			it, err := parseUpgrade(u)
			if err != nil || baseName(it.name) != name {
				continue
			}
			ok, err := o.takeUpgrade(v, s.Target, it, gone.depmarks)
			if err != nil {
				return origin, err
			}
			took = took || ok
		}
	}
	if !took {
		return origin, nil
	}
	return o.Image(), nil
}

// takeUpgrade adds to o, the origin of the block of the package name, as
// its own (users=, groups=, links=, as a fresh apply of a block pinning
// the new version records them), the marks of depmarks its version
// after the upgrade it made, when o is at the version it had before
// (it.old) and the package is at another now. An origin at another
// version was taken at the new one (withUpgradedBefore, which adds
// them) or where the admin put it, and takes nothing.
func (o *pimgPkg) takeUpgrade(v *kind.View, name string, it upgradeItem, depmarks string) (bool, error) {
	if o.Version != it.old || o.upfrom != "" {
		return false, nil
	}
	cur, err := pkgView(v, name)
	if err != nil || cur.State != Installed || cur.Version == it.old {
		return false, err
	}
	took := false
	for _, dm := range kind.SplitNames(depmarks) {
		dep, mark, _ := strings.Cut(dm, ":")
		if dep != baseName(name) {
			continue
		}
		k, n, _ := strings.Cut(mark, ":")
		switch k {
		case "user":
			o.users = kind.JoinNames(append(kind.SplitNames(o.users), n))
		case "group":
			o.groups = kind.JoinNames(append(kind.SplitNames(o.groups), n))
		case "link":
			o.Links = kind.JoinNames(append(kind.SplitNames(o.Links), n))
		default:
			continue
		}
		took = true
	}
	return took, nil
}

// handedOver returns, by package name, the version before the upgrade of
// each package a going install's record (going) names as upgraded, with
// marks its new version made.
func handedOver(going []pkgGoing) map[string]string {
	out := map[string]string{}
	for _, g := range going {
		o, err := Unpack(g.img)
		if err != nil {
			continue
		}
		for _, u := range append(kind.SplitNames(o.upgraded), kind.SplitNames(o.upgrades)...) {
			it, err := parseUpgrade(u)
			if err != nil {
				continue
			}
			n := baseName(it.name)
			if slices.ContainsFunc(kind.SplitNames(o.depmarks), func(dm string) bool { return strings.HasPrefix(dm, n+":") }) {
				out[n] = it.old
			}
		}
	}
	return out
}

// planHandovers plans, as a modify of itself in list order, each PKG
// step of l the diff leaves unchanged whose record's origin is at the
// version a going install upgraded its package from (handedOver): its
// record takes what that install's record names (TakeOrigin).
func planHandovers(p *stepfmt.Plan, l *stepfmt.List, going []pkgGoing, applied func(stepfmt.ID) *kind.Record) {
	olds := handedOver(going)
	if len(olds) == 0 {
		return
	}
	at := map[stepfmt.ID]int{}
	for i, c := range p.Changes {
		if c.Op != stepfmt.OpRemove {
			at[c.Step.ID()] = i
		}
	}
	var take []*stepfmt.Step
	for _, s := range l.Steps {
		old, ok := olds[baseName(s.Target)]
		if s.Kind != stepfmt.KindPackage || !ok || s.Absent() {
			continue
		}
		if _, changed := at[s.ID()]; changed {
			continue
		}
		if rec := applied(s.ID()); rec != nil {
			if o, err := Unpack(rec.Origin); err == nil && o.State == Installed && o.Version == old && o.upfrom == "" {
				take = append(take, s)
			}
		}
	}
	for _, s := range take {
		pos, after := len(p.Changes), false
		for _, t := range l.Steps {
			if i, ok := at[t.ID()]; ok && after {
				pos = i
				break
			}
			after = after || t == s
		}
		p.Changes = slices.Insert(p.Changes, pos, stepfmt.Change{Op: stepfmt.OpModify, Step: s, Old: s})
		p.Unchanged--
		for id, i := range at {
			if i >= pos {
				at[id] = i + 1
			}
		}
		at[s.ID()] = pos
	}
}
