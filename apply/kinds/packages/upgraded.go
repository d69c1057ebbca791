package packages

import (
	"fmt"
	"slices"
	"strings"

	"trail/apply/kind"
	"trail/stepfmt"
)

// An install may upgrade a package that was installed before it, as a
// dependency (trail-a needs trail-d >= 2, trail-d 1.0 is there). Its
// record names that package with the version it had ("upgraded=NAME=
// VERSION"), so that its reverse puts that version back, as the reverse
// of a pinned package installed before trail does (planMove): in the same
// apt call that removes the package, with the mark it has, and taking the
// users and links the new version's scripts made (planMarks). Where apt
// no longer has that version, or putting it back would remove a package
// that stays, the package stays at its version and the plan says so. A
// later install that needs the upgraded version lists it too ("shared:",
// as sharedDeps does for a new dependency), so that whichever of them
// goes last puts the old version back. Before apt runs, the capture
// names what the install's simulation upgrades ("upgrades=", as brings=
// names what it installs, in the form below), so that an apply killed
// while apt runs puts those versions back too.

// An install's own list, and its prediction, also name the version it
// left and the mark the package had ("NAME=OLD>NEW@auto" or "@manual"):
// a package at another
// version since, or marked manually installed since, was taken over by
// the admin, and its rollback leaves it as it is.

// upgradeItem is one item of an upgraded= or upgrades= list.
type upgradeItem struct {
	name, old, now string // now is "" where the list does not say it
	auto           bool
}

// parseUpgrade reads NAME=OLD, or NAME=OLD>NEW@MARK.
func parseUpgrade(it string) (upgradeItem, error) {
	n, v, _ := strings.Cut(it, "=")
	old, tail, left := strings.Cut(v, ">")
	u := upgradeItem{name: n, old: old}
	ok := validPkgName(n) && validVersion(old)
	if left {
		now, mark, _ := strings.Cut(tail, "@")
		u.now, u.auto = now, mark == "auto"
		ok = ok && validVersion(now) && (mark == "auto" || mark == "manual")
	}
	if !ok {
		return u, fmt.Errorf("%q is not NAME=VERSION or NAME=VERSION>VERSION@auto|manual", it)
	}
	return u, nil
}

// canonUpgraded checks a comma list of upgrade items.
func canonUpgraded(list string) (string, error) {
	items := kind.SplitNames(list)
	for _, it := range items {
		if _, err := parseUpgrade(it); err != nil {
			return "", err
		}
	}
	return kind.JoinNames(items), nil
}

// namesOf is the set of names of vers.
func namesOf(vers map[string]string) map[string]bool {
	set := make(map[string]bool, len(vers))
	for n := range vers {
		set[n] = true
	}
	return set
}

// upgradedFrom lists, as NAME=OLD>NEW@MARK, the packages installed both
// before (was) and after (now) a call at another version, but its
// targets, auto holding those marked automatically installed.
func upgradedFrom(was, now map[string]string, targets map[string]bool, auto func(string) (bool, error)) ([]string, error) {
	var out []string
	for n, v := range was {
		if at, ok := now[n]; ok && at != v && !targets[baseName(n)] && validVersion(v) && validVersion(at) {
			a, err := auto(n)
			if err != nil {
				return nil, err
			}
			out = append(out, n+"="+v+">"+at+"@"+markWord(a))
		}
	}
	slices.Sort(out)
	return out, nil
}

// markWord is "auto" or "manual".
func markWord(auto bool) string {
	if auto {
		return "auto"
	}
	return "manual"
}

// takenOver tells why the admin has taken over the package n, at cur, that
// items (of the moves going) say trail's installs upgraded: it is at none
// of the versions they left, or marked manually installed where they left
// it auto, unless a block of the config declares it (declared), which
// marked it so; "" when it is as they left it, or they do not say.
func takenOver(items []upgradeItem, n string, cur pimgPkg, declared bool) string {
	var nows []string
	auto := false
	for _, u := range items {
		if baseName(u.name) == baseName(n) && u.now != "" {
			nows, auto = append(nows, u.now), auto || u.auto
		}
	}
	switch {
	case len(nows) == 0:
		return ""
	case !slices.Contains(nows, cur.Version):
		return "it has been changed since trail's install left it at " + strings.Join(nows, ", ")
	case auto && !cur.auto && !declared:
		return "it has been marked manually installed since"
	}
	return ""
}

// shareUpgrades gives each step the upgrades of ups its installed
// closure (needs) holds, "upgraded:NAME=VERSION"; one no step's holds
// goes to every step, as do all of them when the closures are unknown.
func shareUpgrades(steps []*stepfmt.Step, ups []string, needs map[string][]string, cerr error) [][]string {
	per := make([][]string, len(steps))
	for _, u := range ups {
		n, _, _ := strings.Cut(u, "=")
		claimed := false
		for i, s := range steps {
			if len(steps) == 1 || needs == nil || cerr != nil || hasName(needs[s.Target], n) {
				per[i], claimed = append(per[i], "upgraded:"+u), true
			}
		}
		if !claimed {
			for i := range per {
				per[i] = append(per[i], "upgraded:"+u)
			}
		}
	}
	return per
}

// addUpgraded records ups (NAME=VERSION...), the oldest version by
// Debian's order winning for a name (as text, 1.10 sorts before 1.9),
// and the versions they went to where they say (NAME=OLD>NEW@MARK).
func (td *trailDeps) addUpgraded(ups []string) {
	for _, u := range ups {
		n, v, _ := strings.Cut(u, "=")
		old, tail, _ := strings.Cut(v, ">")
		if now, _, _ := strings.Cut(tail, "@"); now != "" && !slices.Contains(td.left[baseName(n)], now) {
			td.left[baseName(n)] = append(td.left[baseName(n)], now)
		}
		at, ok := td.upgraded[baseName(n)]
		if prev, _, _ := strings.Cut(at, ">"); !ok || newer(prev, old) {
			td.upgraded[baseName(n)] = v
		}
	}
}

// keepUpgraded adds what a call upgraded to the run's trailDeps.
func keepUpgraded(x *kind.Exec, ups []string) {
	if td, _ := x.Kept(trailDepsKey{}).(*trailDeps); td != nil {
		td.addUpgraded(ups)
	}
}

// sharedUpgrades are the packages an earlier install of trail upgraded
// (trailDeps) that are installed before a call (before) and none of its
// targets, as NAME=VERSION: those a step of the call may need at the
// upgraded version.
func sharedUpgrades(x *kind.Exec, before, targets map[string]bool) []string {
	td, _ := x.Kept(trailDepsKey{}).(*trailDeps)
	if td == nil {
		return nil
	}
	var out []string
	for n := range before {
		if v, ok := td.upgraded[baseName(n)]; ok && !targets[baseName(n)] {
			out = append(out, n+"="+v)
		}
	}
	slices.Sort(out)
	return out
}

// upgradesNeeded returns the shared upgrades of cands a step's installed
// closure (need) holds, as brought ones for its origin alone, with the
// marks the upgraded versions' scripts made (trailDeps): they go when the
// old version is put back.
func upgradesNeeded(x *kind.Exec, cands, need []string) []string {
	td, _ := x.Kept(trailDepsKey{}).(*trailDeps)
	var out []string
	for _, c := range cands {
		n, _, _ := strings.Cut(c, "=")
		if !hasName(need, n) {
			continue
		}
		out = append(out, "shared:upgraded:"+c)
		if td != nil {
			for _, mark := range td.marks[baseName(n)] {
				out = append(out, "shared:by:"+baseName(n)+":"+mark)
			}
		}
	}
	return out
}

// planDowngrades plans putting back the versions the installs of moves
// upgraded, for the moves whose package goes or goes back to its old
// version: each in the decision's apt call (downs), unless it is a
// package of the plan's own, a block the config keeps pins its version
// (one that does not is left as a fresh apply leaves it: at the version
// it had, upgradeddeclared.go), it is at that version
// already or is no longer installed; a version apt cannot install, or
// one that would remove a package that stays, leaves it as it is, with
// a note. refs and rm are the call's so far, cands the dependencies that
// may go with it.
func planDowngrades(v *kind.View, t Tools, moves []*pkgMove, targets, keep map[string]bool, refs, rm, cands []string) error {
	removes := func(refs []string) ([]string, error) { return t.removedBesides(refs, rm, cands) }
	base, err := removes(refs)
	if err != nil {
		return err
	}
	var items []upgradeItem
	oldest := map[string]string{} // by name, the oldest version the items had
	for _, m := range moves {
		for _, u := range append(kind.SplitNames(m.orig.upgraded), kind.SplitNames(m.orig.upgrades)...) {
			it, err := parseUpgrade(u)
			if err != nil {
				return err
			}
			items = append(items, it)
			if o, ok := oldest[baseName(it.name)]; !ok || newer(o, it.old) {
				oldest[baseName(it.name)] = it.old
			}
		}
	}
	seen := map[string]bool{}
	for _, m := range moves {
		if m.verb == "" && m.ref == "" {
			continue
		}
		for _, u := range append(kind.SplitNames(m.orig.upgraded), kind.SplitNames(m.orig.upgrades)...) {
			it, _ := parseUpgrade(u)
			n, old := it.name, oldest[baseName(it.name)]
			if b := baseName(n); targets[b] || keep["pinned:"+b] || seen[b] {
				continue
			}
			seen[baseName(n)] = true
			cur, err := pkgView(v, n)
			if err != nil {
				return err
			}
			if cur.State != Installed || cur.Version == old {
				continue
			}
			if why := takenOver(items, n, cur, keep["package:"+baseName(n)]); why != "" {
				m.w.Notes = append(m.w.Notes, fmt.Sprintf("package %s left at %s: trail's install upgraded it from %s, but %s", n, cur.Version, old, why))
				continue
			}
			ref, err := t.source(n, old)
			if err != nil {
				m.w.Notes = append(m.w.Notes, fmt.Sprintf("package %s left at %s: its version %s cannot be installed again (%v)", n, cur.Version, old, err))
				continue
			}
			also, err := removes(append(slices.Clone(refs), ref))
			if err != nil {
				return err
			}
			if also = slices.DeleteFunc(also, func(a string) bool { return hasName(base, a) }); len(also) > 0 {
				m.w.Notes = append(m.w.Notes, fmt.Sprintf("package %s left at %s: putting %s back would also remove %s, %s",
					n, cur.Version, old, strings.Join(also, ", "), staying(also, keep)))
				continue
			}
			m.downs, m.downed = append(m.downs, ref), append(m.downed, n)
			m.w.Changes = append(m.w.Changes, fmt.Sprintf("dependency %s version %s -> %s", n, cur.Version, old))
			back := cur
			back.Version = old
			v.Predict(pkgNS, n, back.Image())
		}
	}
	return nil
}

// downgradeOf reads a work's change "dependency NAME version NOW -> OLD".
func downgradeOf(c string) (name, old string, ok bool) {
	f := strings.Fields(c)
	if len(f) != 6 || f[0] != "dependency" || f[2] != "version" || f[4] != "->" {
		return "", "", false
	}
	return f[1], f[5], true
}
