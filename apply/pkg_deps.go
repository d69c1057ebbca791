package apply

import (
	"fmt"
	"slices"
	"sort"
	"strings"

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
//     origin (withBrought) as "deps=", replacing the prediction;
//   - CheckRestore plans to remove, once the package is restored, those
//     that are still installed, still marked automatic, that apt would
//     then autoremove, and whose removal removes nothing else; any other
//     is kept and named in the notes. Dependencies are removed, never
//     purged: trail does not know whether their conffiles predate it.

// joinNames renders names as a sorted comma list without duplicates
// (splitNames reads one back).
func joinNames(names []string) string {
	s := slices.Clone(names)
	sort.Strings(s)
	return strings.Join(slices.Compact(s), ",")
}

// canonNames checks a comma list of package names and returns it sorted
// and without duplicates.
func canonNames(list string) (string, error) {
	names := splitNames(list)
	for _, n := range names {
		if !validPkgName(n) {
			return "", fmt.Errorf("%q is not a package name", n)
		}
	}
	return joinNames(names), nil
}

// predictBrings returns the packages that installing s would bring along,
// as apt simulates it now; nothing when it cannot tell (the exact list
// comes after the call).
func predictBrings(t pkgTools, s *stepfmt.Step) []string {
	ref, err := t.source(s.Target, s.Value("version"))
	if err != nil {
		return nil
	}
	sim, err := t.simulate(installArgs([]string{ref}, s.Value("recommends") == "true")...)
	if err != nil {
		return nil
	}
	return slices.DeleteFunc(sim.fresh, func(n string) bool { return baseName(n) == baseName(s.Target) })
}

// withBrought adds what a call brought to the image's dependencies and
// drops the prediction.
func (pkgKind) withBrought(img Image, brought []string) (Image, error) {
	p, err := unpackPkg(img)
	if err != nil {
		return Image{}, err
	}
	p.deps = joinNames(append(splitNames(p.deps), brought...))
	p.brings = ""
	return p.image(), nil
}

// installBringing installs refs, the packages of steps, in one apt-get
// call, and hands each step the packages the call newly installed that it
// needs. When the call had several steps, each gets those in its installed
// dependency closure; any that none claims goes to all of them.
func installBringing(x *Exec, t pkgTools, steps []*stepfmt.Step, refs []string, recommends bool) error {
	before, err := t.installed()
	if err != nil {
		return err
	}
	if err := t.install(refs, recommends); err != nil {
		return err
	}
	after, err := t.installed()
	if err != nil {
		return err
	}
	targets := make(map[string]bool, len(steps))
	for _, s := range steps {
		targets[baseName(s.Target)] = true
	}
	var brought []string
	for n := range after {
		if !before[n] && !targets[baseName(n)] {
			brought = append(brought, n)
		}
	}
	sort.Strings(brought)
	if len(brought) == 0 {
		return nil
	}
	if len(steps) == 1 {
		x.bring(steps[0], brought)
		return nil
	}
	claimed := make(map[string]bool)
	per := make([][]string, len(steps))
	for i, s := range steps {
		need, err := t.closure(s.Target, recommends)
		if err != nil {
			need = brought
		}
		for _, n := range need {
			if slices.Contains(brought, n) {
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
	for i, s := range steps {
		x.bring(s, per[i])
	}
	return nil
}

// aptTx is the apt-get call that restores a package itself, as a
// simulation sees it: nothing (verb ""), remove or purge it, or install
// its old version.
type aptTx struct {
	opts []string
	verb string
	pkgs []string
}

// args renders the call with more options, removing deps besides.
func (tx aptTx) args(opts []string, deps []string) []string {
	if tx.verb == "" {
		return append(append([]string{"remove"}, opts...), deps...)
	}
	a := append(append(slices.Clone(tx.opts), opts...), tx.verb)
	a = append(a, tx.pkgs...)
	for _, d := range deps {
		if tx.verb == "install" {
			d += "-"
		}
		a = append(a, d)
	}
	return a
}

// planDeps adds to w the removal of the dependencies trail's installs of
// s brought (orig's deps, or its prediction when the call never
// finished), once tx has restored the package, and a note for each one
// kept.
func planDeps(v *View, t pkgTools, s *stepfmt.Step, orig pimgPkg, w *Work, tx aptTx) error {
	cands := slices.DeleteFunc(append(splitNames(orig.deps), splitNames(orig.brings)...),
		func(n string) bool { return baseName(n) == baseName(s.Target) })
	var auto []string
	for _, d := range splitNames(joinNames(cands)) {
		p, err := pkgView(v, d)
		if err != nil {
			return err
		}
		switch {
		case p.state != pkgInstalled:
		case !p.auto:
			w.Notes = append(w.Notes, fmt.Sprintf("package %s kept: trail installed it for %s, but it has been marked manually installed since", d, s.Target))
		default:
			auto = append(auto, d)
		}
	}
	if len(auto) == 0 {
		return nil
	}
	probe := tx.args([]string{"--auto-remove"}, nil)
	if tx.verb == "" {
		probe = []string{"autoremove"}
	}
	sim, err := t.simulate(probe...)
	if err != nil {
		return err
	}
	var free, needed []string
	for _, d := range auto {
		if slices.Contains(sim.removed, d) {
			free = append(free, d)
		} else {
			needed = append(needed, d)
		}
	}
	free, blocked, err := t.removable(tx, s.Target, free)
	if err != nil {
		return err
	}
	for _, d := range needed {
		w.Notes = append(w.Notes, neededNote(t, s.Target, d, free))
	}
	for _, d := range blocked {
		w.Notes = append(w.Notes, fmt.Sprintf("package %s kept: trail installed it for %s, but removing it would also remove %s, which trail did not install", d.name, s.Target, strings.Join(d.also, ", ")))
	}
	for _, d := range free {
		w.Changes = append(w.Changes, "remove dependency "+d)
		v.predict(pkgNS, d, Absent())
	}
	return nil
}

// blockedDep is a dependency whose removal would take others with it.
type blockedDep struct {
	name string
	also []string
}

// removable checks by simulation that restoring target with tx and
// removing deps removes nothing else. When it would, it keeps adding the
// deps one by one, and returns those that can go and those that cannot.
func (t pkgTools) removable(tx aptTx, target string, deps []string) ([]string, []blockedDep, error) {
	if len(deps) == 0 {
		return nil, nil, nil
	}
	others := func(ds []string) ([]string, error) {
		sim, err := t.simulate(tx.args([]string{"--no-auto-remove"}, ds)...)
		if err != nil {
			return nil, err
		}
		return slices.DeleteFunc(sim.removed, func(n string) bool {
			return baseName(n) == baseName(target) || slices.Contains(ds, n)
		}), nil
	}
	also, err := others(deps)
	if err != nil || len(also) == 0 {
		return deps, nil, err
	}
	var free []string
	var blocked []blockedDep
	for _, d := range deps {
		also, err := others(append(slices.Clone(free), d))
		if err != nil {
			return nil, nil, err
		}
		if len(also) == 0 {
			free = append(free, d)
		} else {
			blocked = append(blocked, blockedDep{d, also})
		}
	}
	return free, blocked, nil
}

// neededNote says why a dependency stays: the installed packages that
// need it, besides target and the deps removed with it.
func neededNote(t pkgTools, target, dep string, going []string) string {
	who, _ := t.needers(dep)
	who = slices.DeleteFunc(who, func(n string) bool {
		return baseName(n) == baseName(target) || slices.Contains(going, n)
	})
	by := "another installed package still needs it"
	if len(who) > 0 {
		by = strings.Join(who, ", ") + " still needs it"
	}
	return fmt.Sprintf("package %s kept: trail installed it for %s, but %s", dep, target, by)
}

// depsOf returns the dependencies a restore's work removes.
func depsOf(w Work) []string {
	var deps []string
	for _, c := range w.Changes {
		if d, ok := strings.CutPrefix(c, "remove dependency "); ok {
			deps = append(deps, d)
		}
	}
	return deps
}
