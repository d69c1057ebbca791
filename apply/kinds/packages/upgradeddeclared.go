package packages

import (
	"fmt"
	"slices"
	"strings"

	"trail/apply/kind"
	"trail/stepfmt"
)

// A package there before trail that an install of trail upgraded as its
// dependency (upgraded.go) may be declared by a package block too, before
// or after that install. Its block's record alone cannot tell what to put
// back, as the install's record alone cannot either: the block's finds it
// at the new version when it comes after the install, and the install
// leaves a declared package to its block. So:
//
//   - a block declaring it after the install, at the version the install
//     left it at, records the version it had before (upgradedfrom=), with
//     what the new version's scripts made as made by the package itself
//     (depmarks "NAME:user:X"...); at a version the admin put it at since,
//     it records that version alone, as for any package;
//   - a block's reverse leaves the version as it is while an install the
//     plan keeps upgraded it ("upgraded:NAME" in the plan's keep): that
//     install puts the old version back when it goes; else it puts the
//     version back from before trail, upgradedfrom= or its own;
//   - an install's reverse puts the old version back under a block the
//     config keeps too, unless the block pins a version: a fresh apply of
//     the block alone leaves the package at the version it had.
//
// Putting an old version back that would remove a package that stays is
// not done: the package stays at its version, and the plan says so.

// upgradedBefore returns, for a package an earlier install of trail
// upgraded as its dependency (trailDeps), the version it had before
// that install, the oldest by Debian's order, the versions those
// installs left it at where their records say, and the marks the new
// versions' scripts made; "" for any other.
func upgradedBefore(x *kind.Exec, name string) (old string, left, marks []string) {
	td, _ := x.Kept(trailDepsKey{}).(*trailDeps)
	if td == nil {
		return "", nil, nil
	}
	v, ok := td.upgraded[baseName(name)]
	if !ok {
		return "", nil, nil
	}
	old, _, _ = strings.Cut(v, ">")
	return old, td.left[baseName(name)], td.marks[baseName(name)]
}

// withUpgradedBefore records in p, the image of the installed package
// name, the version it had before an earlier install of trail upgraded
// it (upgradedBefore), when it is at a version those installs left it
// at (left; a newer one where their records do not say), with the marks
// the new version's scripts made as its own dependency marks: they go
// when that version is put back (planMarks). One the admin upgraded or
// downgraded by hand since is theirs: the block records it as it is.
func (p *pimgPkg) withUpgradedBefore(x *kind.Exec, name string) error {
	old, left, marks := upgradedBefore(x, name)
	switch {
	case old == "" || old == p.Version:
		return nil
	case len(left) > 0 && !slices.Contains(left, p.Version):
		return nil
	case !newer(p.Version, old):
		return nil
	}
	p.upfrom = old
	dms := kind.SplitNames(p.depmarks)
	for _, mk := range marks {
		dms = append(dms, baseName(name)+":"+mk)
	}
	list, err := canonDepMarks(kind.JoinNames(dms))
	if err != nil {
		return err
	}
	p.depmarks = list
	return nil
}

// keepUpgradeFacts adds to keep what a step the plan keeps says of
// upgraded packages: "pinned:NAME" when it pins its version, and
// "upgraded:NAME" for each package its record (o, nil when none) names
// as upgraded by its install.
func keepUpgradeFacts(keep map[string]bool, s *stepfmt.Step, o *pimgPkg) {
	if s.Value("version") != "" {
		keep["pinned:"+baseName(s.Target)] = true
	}
	if o == nil {
		return
	}
	for _, u := range append(kind.SplitNames(o.upgraded), kind.SplitNames(o.upgrades)...) {
		n, _, _ := strings.Cut(u, "=")
		keep["upgraded:"+baseName(n)] = true
	}
}

// versionBack sets the version the reverse of a block declaring an
// installed package puts back, keep holding what the plan keeps (nil for
// the undo of a change, which puts back what it found): the version it
// has while an install the plan keeps upgraded it, unless the block pins
// one, which it may have moved it to: then the version the install left
// it at (the block's own, found at it, or the newest its installs
// left), as a fresh apply of what the plan keeps leaves it; else the
// version from before an earlier install of trail upgraded it
// (upgradedfrom=).
func (m *pkgMove) versionBack(x *kind.Exec, keep map[string]bool) {
	if keep == nil || m.orig.State != Installed {
		return
	}
	v := m.orig.Version
	switch {
	case keep["upgraded:"+baseName(m.g.step.Target)]:
		if m.cur.State == Installed {
			v = m.cur.Version
		}
		if m.g.step.Value("version") == "" {
			break
		}
		if _, left, _ := upgradedBefore(x, m.g.step.Target); m.orig.upfrom != "" {
			v = m.orig.Version
		} else if len(left) > 0 {
			v = slices.MaxFunc(left, func(a, b string) int {
				if newer(a, b) {
					return 1
				}
				return -1
			})
		}
	case m.orig.upfrom != "":
		v = m.orig.upfrom
	}
	if v == m.orig.Version {
		return
	}
	m.orig.Version = v
	back := pimgPkg{pkgStatus: pkgStatus{State: Installed, Version: v}, auto: m.orig.auto}
	m.w.Target = back.Image()
}

// leaveBlockingRefs leaves at the version it has each package of moves
// whose old version, put back, would remove a package that stays (none
// of rm and cands, the call's removals and the dependencies that may go
// with them); the plan says so. refs are the call's installs.
func leaveBlockingRefs(t Tools, moves []*pkgMove, refs, rm, cands []string, keep map[string]bool) error {
	if !slices.ContainsFunc(moves, func(m *pkgMove) bool { return m.ref != "" }) {
		return nil
	}
	all, err := t.removedBesides(refs, rm, cands)
	if err != nil || len(all) == 0 {
		return err
	}
	base, err := t.removedBesides(nil, rm, cands)
	if err != nil {
		return err
	}
	for _, m := range moves {
		if m.ref == "" {
			continue
		}
		also, err := t.removedBesides([]string{m.ref}, rm, cands)
		if err != nil {
			return err
		}
		if also = slices.DeleteFunc(also, func(a string) bool { return hasName(base, a) }); len(also) == 0 {
			continue
		}
		m.leaveAt(fmt.Sprintf("package %s left at %s: putting %s back would also remove %s, %s",
			m.g.step.Target, m.cur.Version, m.orig.Version, strings.Join(also, ", "), staying(also, keep)))
	}
	return nil
}

// leaveAt leaves the package of m as it is, noting why; an installed
// one that was installed before trail gets back the mark it had.
func (m *pkgMove) leaveAt(note string) {
	m.ref, m.w.Changes, m.w.Target = "", nil, m.cur.Image()
	if m.cur.State == Installed && m.orig.State == Installed {
		m.orig.Version = m.cur.Version
		if auto, ok := newMark(m.cur, m.orig); ok {
			m.w.Changes = []string{markPhrase(auto)}
		}
		kept := pimgPkg{pkgStatus: m.cur.pkgStatus, auto: m.orig.auto}
		m.w.Target = kept.Image()
	}
	m.w.Notes = append(m.w.Notes, note)
}

// versionTo reads the version a change "version NOW -> OLD" puts back.
func versionTo(c string) string {
	f := strings.Fields(c)
	return f[len(f)-1]
}
