package packages

import (
	"fmt"
	"slices"
	"strings"

	"trail/apply/kind"
	"trail/stepfmt"
)

// The reverses of an apply's PKG steps are decided together, as one apt
// transaction, not package by package: a package that goes with another
// that needs it, or a dependency two going packages share, then goes,
// and a note "kept: removing it would also remove X" names only packages
// that stay. The plan puts them next to each other (gatherPkgRemovals), at
// the place of the one that runs last, and the run makes them as one
// group (RestoreGroup).
//
// A package that was absent before trail is purged (purge=false removes
// it, leaving its conffiles); one that had config files left is removed,
// keeping them. Dependencies trail's installs brought are removed along,
// as far as nothing that stays needs them, and purged unless they had
// config files before. A dependency that a staying package only
// recommends or suggests goes too (that package did without it before
// trail; apt's autoremove would keep it), unless a package the config
// keeps brought it as well. A dependency that a going package brought
// is not counted among what stays when deciding whether a package of
// the list must be kept. Accounts and enablement links its maintainer
// scripts made go with a package that goes, is gone, or is put back at
// its version from before trail, those a dependency's made
// with that dependency (depmarks.go), unless a package the plan keeps
// made them too. A package that was installed is put back at its
// version and mark; apt keeps conffiles changed since (--force-confold).

// pkgGoing is one PKG removal of a plan: the step and the image to
// restore (its origin).
type pkgGoing struct {
	step *stepfmt.Step
	img  kind.Image
}

// pkgRemoval is what the plan's PKG removals are decided over: every
// removal, and the packages the plan keeps ("package:NAME"), what their
// installs brought ("dep:NAME"), the accounts and links they made
// (prefixed as in brought.go) and those their dependencies' scripts made
// ("by:DEP:user:NAME"..., depmarks.go).
type pkgRemoval struct {
	going []pkgGoing
	keep  map[string]bool
	// decided caches the decision of the plan (predicted) and of the run
	// (live), by target.
	planned, live map[string]kind.Work
}

// gatherPkgRemovals moves the PKG removals of p next to the last of them,
// or after the last removal of an apt source path when that comes later
// (the packages are then removed or put back against the lists without
// the source: aptsources.go), so that the run makes them as one group;
// every other change keeps its order. Moving a reverse later is safe:
// what ran after it in the old list is reversed before it anyway, and
// removing a package needs nothing reversed between.
func gatherPkgRemovals(p *stepfmt.Plan) {
	last, src := -1, -1
	for i, c := range p.Changes {
		switch {
		case c.Op != stepfmt.OpRemove:
		case c.Step.Kind == stepfmt.KindPackage:
			last = i
		case stepfmt.IsPath(c.Step.Kind) && IsSourcePath(c.Step.Target):
			src = i
		}
	}
	if last < 0 {
		return
	}
	last = max(last, src)
	var before, pkgs []stepfmt.Change
	for _, c := range p.Changes[:last+1] {
		if c.Op == stepfmt.OpRemove && c.Step.Kind == stepfmt.KindPackage {
			pkgs = append(pkgs, c)
		} else {
			before = append(before, c)
		}
	}
	copy(p.Changes, append(before, pkgs...))
}

// PlanChanges gathers the plan's PKG removals and records them, with what
// the kept PKG records brought, for the decision, and plans the unchanged
// blocks whose records take what a going install made (planHandovers).
func (Package) PlanChanges(x *kind.Exec, p *stepfmt.Plan, l *stepfmt.List, applied func(stepfmt.ID) *kind.Record) {
	gatherPkgRemovals(p)
	keepPlanFacts(x, p, l, applied)
	r := &pkgRemoval{keep: map[string]bool{}}
	for _, c := range p.Changes {
		if c.Op == stepfmt.OpRemove && c.Step.Kind == stepfmt.KindPackage {
			if rec := applied(c.Step.ID()); rec != nil {
				r.going = append(r.going, pkgGoing{c.Step, rec.Origin})
			}
		}
	}
	if len(r.going) == 0 {
		x.Keep(pkgRemovalKey{}, nil)
		return
	}
	for _, s := range l.Steps {
		if s.Kind != stepfmt.KindPackage || s.Absent() {
			continue
		}
		r.keep["package:"+baseName(s.Target)] = true
		keepUpgradeFacts(r.keep, s, nil)
		if rec := applied(s.ID()); rec != nil {
			if o, err := Unpack(rec.Origin); err == nil {
				keepUpgradeFacts(r.keep, s, &o)
				for _, d := range kind.SplitNames(o.deps) {
					r.keep["dep:"+baseName(d)] = true
				}
				for _, u := range kind.SplitNames(o.users) {
					r.keep["user:"+u] = true
				}
				for _, g := range kind.SplitNames(o.groups) {
					r.keep["group:"+g] = true
				}
				for _, k := range kind.SplitNames(o.Links) {
					r.keep["link:"+k] = true
				}
				for _, dm := range kind.SplitNames(o.depmarks) {
					r.keep["by:"+dm] = true
				}
			}
		}
	}
	planHandovers(p, l, r.going, applied)
	x.Keep(pkgRemovalKey{}, r)
}

// pkgRemovalKey keeps the pkgRemoval of a plan in its Exec.
type pkgRemovalKey struct{}

// removalWork returns the work restoring s to img: its share of the
// plan's decision when s is one of the plan's removals, restored to its
// origin, else a decision over s alone (the undo of a change, which
// restores the image captured before it).
func removalWork(v *kind.View, s *stepfmt.Step, img kind.Image) (kind.Work, error) {
	r, _ := v.Exec().Kept(pkgRemovalKey{}).(*pkgRemoval)
	if r != nil && slices.ContainsFunc(r.going, func(g pkgGoing) bool { return g.step == s && g.img.Equal(img) }) {
		cache := &r.live
		if v.Planning() {
			cache = &r.planned
		}
		if *cache == nil {
			works, err := decidePkgs(v, r.going, r.keep)
			if err != nil {
				return kind.Work{}, err
			}
			*cache = works
		}
		return (*cache)[s.Target], nil
	}
	works, err := decidePkgs(v, []pkgGoing{{s, img}}, nil)
	if err != nil {
		return kind.Work{}, err
	}
	return works[s.Target], nil
}

// pkgMove is what restoring one package does to it.
type pkgMove struct {
	g         pkgGoing
	orig, cur pimgPkg
	w         kind.Work
	verb      string   // "remove" or "purge" the package itself, or ""
	ref       string   // what to install to put its old version back, or ""
	brought   bool     // goes back to before an install of trail brought it (planMove)
	downs     []string // what to install to put back versions its install upgraded (upgraded.go)
	downed    []string // the packages of downs
}

// decidePkgs plans restoring every package of going together, keep
// holding what the plan keeps (nil for the undo of a change).
func decidePkgs(v *kind.View, going []pkgGoing, keep map[string]bool) (map[string]kind.Work, error) {
	t := pkgToolsOf(v.Exec())
	pol, err := oldVersionPolicies(v, t, going)
	if err != nil {
		return nil, err
	}
	moves := make([]*pkgMove, 0, len(going))
	targets := map[string]bool{}
	for _, g := range going {
		m, err := planMove(v, t, g, pol, keep)
		if err != nil {
			return nil, err
		}
		moves = append(moves, m)
		targets[baseName(g.step.Target)] = true
	}
	tx := func(ms []*pkgMove) (refs, rm []string) {
		for _, m := range ms {
			if m.ref != "" {
				refs = append(refs, m.ref)
			}
			refs = append(refs, m.downs...)
			if m.verb != "" {
				rm = append(rm, m.g.step.Target)
			}
		}
		return
	}
	// The dependencies trail's installs brought, still installed and auto:
	// they may go with the packages, so a package whose removal takes
	// only them is not kept for it.
	owner := map[string]*pkgMove{}
	var cands []string
	for _, m := range moves {
		for _, d := range append(kind.SplitNames(m.orig.deps), kind.SplitNames(m.orig.brings)...) {
			if targets[baseName(d)] || owner[d] != nil {
				continue
			}
			p, err := pkgView(v, d)
			if err != nil {
				return nil, err
			}
			switch {
			case p.State != Installed:
			case keep["package:"+baseName(d)]:
			case !p.auto:
				m.w.Notes = append(m.w.Notes, fmt.Sprintf("package %s kept: trail installed it for %s, but it has been marked manually installed since", d, m.g.step.Target))
			default:
				owner[d] = m
				cands = append(cands, d)
			}
		}
	}
	// A package whose removal takes one that stays is kept, as is one
	// whose old version would.
	refs, rm := tx(moves)
	if err := leaveBlockingRefs(t, moves, refs, rm, cands, keep); err != nil {
		return nil, err
	}
	refs, rm = tx(moves)
	others, err := t.alsoRemoved(refs, rm, cands)
	if err != nil {
		return nil, err
	}
	if len(others) > 0 {
		for _, m := range moves {
			if m.verb == "" {
				continue
			}
			also, err := t.alsoRemoved(nil, []string{m.g.step.Target}, append(slices.Clone(rm), cands...))
			if err != nil {
				return nil, err
			}
			if len(also) > 0 {
				m.verb = ""
				m.w.Changes = nil
				m.w.Target = m.cur.Image()
				if m.brought && !m.cur.auto {
					// As the install that brought it left it.
					kept := m.cur
					kept.auto = true
					m.w.Target = kept.Image()
					m.w.Changes = []string{markPhrase(true)}
				}
				m.w.Notes = append(m.w.Notes, fmt.Sprintf("package %s kept: removing it would also remove %s, %s", m.g.step.Target,
					strings.Join(also, ", "), staying(also, keep)))
			}
		}
		// An old version put back may need a package now kept gone.
		refs, rm = tx(moves)
		if err := leaveBlockingRefs(t, moves, refs, rm, cands, keep); err != nil {
			return nil, err
		}
		refs, rm = tx(moves)
	}
	if err := planDowngrades(v, t, moves, targets, keep, refs, rm, cands); err != nil {
		return nil, err
	}
	refs, rm = tx(moves)
	var goneDeps []string
	if len(cands) > 0 {
		free, err := t.autoRemoved(refs, rm)
		if err != nil {
			return nil, err
		}
		var gone, needed []string
		for _, d := range cands {
			switch {
			case hasName(free, d):
				gone = append(gone, d)
			case keep["dep:"+baseName(d)]:
				needed = append(needed, d)
			default:
				// apt's autoremove keeps what a staying package only
				// recommends or suggests (and some packages always, such
				// as sensible-utils); that package did without it before
				// trail brought it, so it goes unless one depends on it.
				hard, err := t.hardNeeders(d)
				if err != nil {
					return nil, err
				}
				if slices.ContainsFunc(hard, func(n string) bool { return !hasName(rm, n) && !hasName(cands, n) }) {
					needed = append(needed, d)
				} else {
					gone = append(gone, d)
				}
			}
		}
		gone, blocked, err := t.removableWith(refs, rm, gone)
		if err != nil {
			return nil, err
		}
		going := append(slices.Clone(rm), gone...)
		for _, d := range needed {
			m := owner[d]
			m.w.Notes = append(m.w.Notes, neededNote(t, m.g.step.Target, d, going))
		}
		for _, b := range blocked {
			m := owner[b.name]
			m.w.Notes = append(m.w.Notes, fmt.Sprintf("package %s kept: trail installed it for %s, but removing it would also remove %s, %s",
				b.name, m.g.step.Target, strings.Join(b.also, ", "), staying(b.also, keep)))
		}
		goneDeps = gone
		for _, d := range gone {
			m := owner[d]
			verb := "purge"
			if slices.Contains(kind.SplitNames(m.orig.confdeps), d) || m.g.step.Value("purge") == "false" {
				verb = "remove"
			}
			m.w.Changes = append(m.w.Changes, verb+" dependency "+d)
			v.Predict(pkgNS, d, kind.Absent())
		}
	}
	for _, m := range moves {
		goneDeps = append(goneDeps, m.downed...) // the marks their new version made go
		if m.ref != "" {
			goneDeps = append(goneDeps, m.g.step.Target)
		}
	}
	if err := planMarks(v, t, moves, goneDeps, keep); err != nil {
		return nil, err
	}
	works := make(map[string]kind.Work, len(moves))
	for _, m := range moves {
		settle(&m.w)
		v.Predict(pkgNS, m.g.step.Target, m.w.Target)
		works[m.g.step.Target] = m.w
	}
	return works, nil
}

// hasName reports whether names holds n, an architecture qualifier aside:
// dpkg-query names a package of the native architecture "libc6:amd64"
// where apt-get -s says "libc6".
func hasName(names []string, n string) bool {
	return slices.ContainsFunc(names, func(m string) bool { return baseName(m) == baseName(n) })
}

// staying ends a note on packages kept because others would go: whether
// trail installed them for packages the config keeps.
func staying(names []string, keep map[string]bool) string {
	for _, n := range names {
		if !keep["package:"+baseName(n)] && !keep["dep:"+baseName(n)] {
			return "which trail did not install"
		}
	}
	return "which this config still installs"
}

// planMove plans what restoring one package to its image does to it,
// pol holding the policies of packages to put back at their old version.
// A package an earlier install of trail brought before a step declared it
// (before=) goes back to its state before that install when the plan
// removes its step and keeps (keep) no record of an install that brought
// it: that install is rolled back too, or was already.
func planMove(v *kind.View, t Tools, g pkgGoing, pol map[string]Policy, keep map[string]bool) (*pkgMove, error) {
	s := g.step
	orig, err := Unpack(g.img)
	if err != nil {
		return nil, err
	}
	cur, err := pkgView(v, s.Target)
	if err != nil {
		return nil, err
	}
	m := &pkgMove{g: g, orig: orig, cur: cur, w: kind.Work{Before: cur.Image(), After: g.img, Target: g.img}}
	switch {
	case orig.State != Installed || orig.before == "":
	case keep != nil && !keep["dep:"+baseName(s.Target)]:
		orig.pkgStatus, orig.auto = pkgStatus{State: orig.before}, false
		m.orig, m.w.Target, m.brought = orig, kind.Image{State: orig.before}, true
	default:
		// It stays, for the install that brought it: so do the
		// dependencies it shares with that install.
		orig.deps, orig.confdeps, orig.depmarks = "", "", ""
		m.orig = orig
	}
	m.versionBack(v.Exec(), keep)
	orig = m.orig
	purge := s.Value("purge") != "false" && orig.State == kind.StateAbsent
	switch orig.State {
	case kind.StateAbsent, pkgConfig:
		if cur.State == kind.StateAbsent || cur.State == pkgConfig && !purge {
			break
		}
		m.verb = "remove"
		if purge {
			m.verb = "purge"
		}
		m.w.Changes = append(m.w.Changes, m.verb)
	case Installed:
		if cur.State != Installed || cur.Version != orig.Version {
			ref, err := t.sourceFrom(s.Target, orig.Version, pol)
			if err != nil {
				m.leaveAt(fmt.Sprintf("package %s left at %s: its version %s cannot be installed again (%v)", s.Target, orDash(cur.Version), orig.Version, err))
				return m, nil
			}
			m.ref = ref
			m.w.Changes = append(m.w.Changes, "version "+orDash(cur.Version)+" -> "+orig.Version)
		}
		if auto, ok := newMark(cur, orig); ok {
			m.w.Changes = append(m.w.Changes, markPhrase(auto))
		}
	case pkgPartial:
		if cur.State != pkgPartial {
			m.w.Target = cur.Image()
			m.w.Notes = append(m.w.Notes, fmt.Sprintf("package %s was %s before trail managed it: left as it is now", s.Target, orig.Status))
		}
	}
	return m, nil
}
