package packages

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"trail/apply/kind"
	"trail/stepfmt"
)

// A package trail installs may need others that are not installed: apt
// installs them with it, marked automatically installed. Their names are
// kept in the package's images, so that the reverse takes them away again
// and a rollback gives the machine back as it was (DESIGN invariants 1
// and 2):
//
//   - Capture predicts what installing the package would bring (apt-get
//     -s) as "brings=", so that the journal's undo image names them before
//     apt runs, and an apply killed while apt runs is undone whole;
//   - ForwardGroup compares dpkg's installed set before and after each
//     apt-get call and hands each step what its call newly installed
//     (Exec.bring); the engine folds that into the undo image and the
//     origin (WithBrought) as "deps=", replacing the prediction;
//   - CheckRestore plans to remove, once the plan's packages are restored
//     (remove.go), those that are still installed, still marked
//     automatic, that apt would then autoremove, and whose removal
//     removes nothing else; any other is kept and named in the notes.
//     They are purged, unless they had config files left before trail's
//     install brought them back (confdeps=).

// canonNames checks a comma list of package names and returns it sorted
// and without duplicates.
func canonNames(list string) (string, error) {
	names := kind.SplitNames(list)
	for _, n := range names {
		if !validPkgName(n) {
			return "", fmt.Errorf("%q is not a package name", n)
		}
	}
	return kind.JoinNames(names), nil
}

// WithBrought adds what a call brought to the image's dependencies and
// drops the prediction and the marks before the call. What an earlier
// install brought ("shared:", sharedDeps) goes to the origin alone: the
// undo image of the change (the one with the marks before the call)
// leaves it to the record that brought it.
func (Package) WithBrought(img kind.Image, brought []string) (kind.Image, error) {
	p, err := Unpack(img)
	if err != nil {
		return kind.Image{}, err
	}
	var own []string
	for _, b := range brought {
		if n, ok := strings.CutPrefix(b, "shared:"); !ok {
			own = append(own, b)
		} else if p.had == nil {
			own = append(own, n)
		}
	}
	b := broughtParts(own)
	p.deps = kind.JoinNames(append(kind.SplitNames(p.deps), b.deps...))
	p.confdeps = kind.JoinNames(append(kind.SplitNames(p.confdeps), b.conf...))
	p.users = kind.JoinNames(append(kind.SplitNames(p.users), b.users...))
	p.groups = kind.JoinNames(append(kind.SplitNames(p.groups), b.groups...))
	p.Links = kind.JoinNames(append(kind.SplitNames(p.Links), b.links...))
	p.depmarks = kind.JoinNames(append(kind.SplitNames(p.depmarks), b.by...))
	p.upgraded = kind.JoinNames(append(kind.SplitNames(p.upgraded), b.upgraded...))
	p.brings, p.upgrades = "", ""
	p.had = nil
	return p.Image(), nil
}

// installBringing installs refs, the packages of steps, in one apt-get
// call, and hands each step the packages the call newly installed that it
// needs. When the call had several steps, each gets those in its installed
// dependency closure; any that none claims goes to all of them.
func installBringing(x *kind.Exec, t Tools, steps []*stepfmt.Step, refs []string, recommends bool) error {
	vers, conf, err := t.installedVersions()
	if err != nil {
		return err
	}
	before := namesOf(vers)
	marks, err := ReadMarks(t)
	if err != nil {
		return err
	}
	lists, err := t.listTimes()
	if err != nil {
		return err
	}
	if err := t.install(refs, recommends); err != nil {
		return err
	}
	versAfter, _, err := t.installedVersions()
	if err != nil {
		return err
	}
	after := namesOf(versAfter)
	marksAfter, err := ReadMarks(t)
	if err != nil {
		return err
	}
	made := marksAfter.Since(marks)
	targets := make(map[string]bool, len(steps))
	for _, s := range steps {
		targets[baseName(s.Target)] = true
	}
	var upgraded []string
	if len(made) > 0 {
		listsAfter, err := t.listTimes()
		if err != nil {
			return err
		}
		upgraded = relisted(lists, listsAfter, targets)
	}
	var brought []string
	for n := range after {
		if !before[n] && !targets[baseName(n)] {
			brought = append(brought, n)
		}
	}
	sort.Strings(brought)
	per := make([][]string, len(steps))
	shared := make([][]string, len(steps))
	cands := sharedCandidates(x, before, targets)
	ups, err := upgradedFrom(vers, versAfter, targets, t.AutoMarked)
	if err != nil {
		return err
	}
	upCands := sharedUpgrades(x, before, targets)
	var needs map[string][]string
	var cerr error
	if len(steps) > 1 || len(cands) > 0 || len(upCands) > 0 {
		names := make([]string, len(steps))
		for i, s := range steps {
			names[i] = s.Target
		}
		needs, cerr = t.closures(names, recommends)
	}
	for i, s := range steps {
		if cerr == nil {
			shared[i] = append(sharedDeps(x, cands, needs[s.Target]), upgradesNeeded(x, upCands, needs[s.Target])...)
		}
	}
	if len(steps) == 1 {
		per[0] = brought
	} else {
		claimed := make(map[string]bool)
		for i, s := range steps {
			need := needs[s.Target]
			if cerr != nil {
				need = brought
			}
			for _, n := range brought {
				if hasName(need, n) {
					per[i] = append(per[i], n)
					claimed[n] = true
				}
			}
		}
		for _, n := range brought {
			if !claimed[n] {
				for i := range per {
					per[i] = append(per[i], n)
				}
			}
		}
	}
	marksOf := AttributeMarks(t, steps, per, upgraded, made)
	keepBrought(x, brought, conf, marksOf)
	keepUpgraded(x, ups)
	upsOf := shareUpgrades(steps, ups, needs, cerr)
	for i, s := range steps {
		if b := append(append(append(confMarked(per[i], conf), shared[i]...), marksOf[i]...), upsOf[i]...); len(b) > 0 {
			x.Bring(s, b)
		}
	}
	return nil
}

// confMarked prefixes "conf:" to the names that had config files left.
func confMarked(names []string, conf map[string]bool) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = n
		if conf[n] {
			out[i] = "conf:" + n
		}
	}
	return out
}

// blockedDep is a dependency whose removal would take others with it.
type blockedDep struct {
	name string
	also []string
}

// neededNote says why a dependency stays: the installed packages that
// need it, besides target and the deps removed with it.
func neededNote(t Tools, target, dep string, going []string) string {
	who, _ := t.needers(dep)
	who = slices.DeleteFunc(who, func(n string) bool {
		return baseName(n) == baseName(target) || hasName(going, n)
	})
	by := "another installed package still needs it"
	if len(who) > 0 {
		by = strings.Join(who, ", ") + " still needs it"
	}
	return fmt.Sprintf("package %s kept: trail installed it for %s, but %s", dep, target, by)
}
