package packages

import (
	"slices"
	"strings"

	"trail/stepfmt"
)

// What installing a package brings along is predicted before apt runs
// (deps.go). The steps of a group are installed by one apt-get call per
// recommends setting (ForwardGroup), and their prediction is one
// apt-get -s of that call, split back to each step:
//
//   - the simulation names every package the call installs or changes
//     (Inst lines) and the version it takes; one apt-cache depends of
//     those versions gives their dependencies (Depends and Pre-Depends,
//     and Recommends for an install with recommends), each a set of
//     alternatives with the packages that provide them;
//   - a step brings the packages the call newly installs that its
//     package's dependencies reach, through packages the call installs
//     or changes, leaving out a dependency one of whose alternatives is
//     installed and stays as it is (or is another step's package, as
//     installed): apt would install nothing for it. That is what the
//     step's own simulation would say: a new dependency two steps reach
//     is brought by both, as each one's own install would bring it, and
//     a step another step's package depends on is brought by that one
//     too, with what it brings;
//   - when the simulation fails, names a version apt-cache cannot show,
//     or installs a package no step reaches (apt chose it for a reason
//     the dependencies do not show, such as a conflict), each step is
//     simulated alone, as a step alone always is.
//
// Where apt resolves the group otherwise than each step alone (two
// steps that pick different alternatives of one dependency), the split
// follows what the one call installs, which is what the undo must take
// away. The call installs what its simulation says, so the steps'
// predictions together name exactly what it brings; after the call the
// exact lists replace them (installBringing).

// simInst is a package an apt-get -s would install or change.
type simInst struct {
	name, version string
	old           string // the version installed now, for a change
	fresh         bool   // not installed now
}

// simUpgrades lists, as NAME=OLD>NEW@MARK, the packages of inst
// installed now that the call would move to another version, but
// targets, with the mark each has (auto): what an install records as
// upgraded (upgraded.go) before apt runs, so that a rollback of an
// apply killed while apt runs tells, as after it, whether the admin
// took the package over since (takenOver). A package whose mark cannot
// be read is listed without it.
func simUpgrades(inst []simInst, targets []string, auto func(string) (bool, error)) []string {
	var out []string
	for _, in := range inst {
		if in.fresh || !validVersion(in.old) || in.version == in.old || hasName(targets, in.name) {
			continue
		}
		a, err := auto(in.name)
		if err != nil || !validVersion(in.version) {
			out = append(out, in.name+"="+in.old)
			continue
		}
		out = append(out, in.name+"="+in.old+">"+in.version+"@"+markWord(a))
	}
	return out
}

// predict returns what installing each of steps would bring along: one
// apt-cache policy for all, and one simulation per recommends setting
// (predictTogether). A step whose package apt cannot resolve gets nothing:
// the exact list comes after the call.
func predict(t Tools, steps []*stepfmt.Step) (brings, upgrades [][]string) {
	out := make([][]string, len(steps))
	ups := make([][]string, len(steps))
	if len(steps) == 0 {
		return out, ups
	}
	refs, errs, err := t.sources(steps)
	if err != nil {
		return out, ups
	}
	for _, rec := range []bool{false, true} {
		var at []int
		var group []*stepfmt.Step
		var grefs []string
		for i, s := range steps {
			if errs[i] == nil && (s.Value("recommends") == "true") == rec {
				at, group, grefs = append(at, i), append(group, s), append(grefs, refs[i])
			}
		}
		if len(group) == 0 {
			continue
		}
		per, up, ok := predictTogether(t, group, grefs, rec)
		for j, s := range group {
			if !ok {
				per[j], up = predictAlone(t, s, grefs[j], rec)
			}
			out[at[j]], ups[at[j]] = per[j], up
		}
	}
	return out, ups
}

// predictAlone simulates installing the package of s, named by ref, alone:
// what it would install besides s's package, and upgrade (simUpgrades).
func predictAlone(t Tools, s *stepfmt.Step, ref string, recommends bool) (brings, upgrades []string) {
	sim, err := t.simulate(installArgs([]string{ref}, recommends)...)
	if err != nil {
		return nil, nil
	}
	return slices.DeleteFunc(sim.fresh, func(n string) bool { return baseName(n) == baseName(s.Target) }), simUpgrades(sim.inst, []string{s.Target}, t.AutoMarked)
}

// predictTogether simulates installing refs, the packages of steps, in one
// call and splits what it brings back to each step, with what the call
// upgrades (every step's); ok is false when it cannot (see above). A
// single step is simulated alone.
func predictTogether(t Tools, steps []*stepfmt.Step, refs []string, recommends bool) ([][]string, []string, bool) {
	per := make([][]string, len(steps))
	if len(steps) == 1 {
		var ups []string
		per[0], ups = predictAlone(t, steps[0], refs[0], recommends)
		return per, ups, true
	}
	sim, err := t.simulate(installArgs(refs, recommends)...)
	if err != nil {
		return per, nil, false
	}
	args := []string{"depends", "--no-suggests", "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances"}
	if !recommends {
		args = append(args, "--no-recommends")
	}
	for _, in := range sim.inst {
		if in.version == "" {
			return per, nil, false
		}
		args = append(args, in.name+"="+in.version)
	}
	installed, err := t.installed()
	if err != nil {
		return per, nil, false
	}
	out, err := t.Apt("apt-cache", args...)
	if err != nil {
		return per, nil, false
	}
	targets := make([]string, len(steps))
	for i, s := range steps {
		targets[i] = s.Target
	}
	per, ok := splitBrings(targets, sim.inst, parseDepends(out), installed)
	return per, simUpgrades(sim.inst, targets, t.AutoMarked), ok
}

// splitBrings shares out the packages one call newly installs (the fresh
// ones of inst) to the targets of its steps, as predict's rule says, given
// the dependencies of every package of inst and the packages installed
// now. ok is false when a package of inst has no dependencies listed or
// a fresh package is reached by no target.
func splitBrings(targets []string, inst []simInst, deps map[string][][]string, installed map[string]bool) (per [][]string, ok bool) {
	per = make([][]string, len(targets))
	fresh := make(map[string]bool, len(inst))
	for _, in := range inst {
		if _, listed := deps[in.name]; !listed {
			return per, false
		}
		fresh[in.name] = in.fresh
	}
	there := make(map[string]bool, len(installed))
	for n := range installed {
		there[baseName(n)] = true
	}
	isTarget := make(map[string]bool, len(targets))
	for _, t := range targets {
		isTarget[baseName(t)] = true
	}
	// satisfied: an alternative that is installed and stays so, or is a
	// step's package that is installed (its own step changes it).
	satisfied := func(alts []string) bool {
		return slices.ContainsFunc(alts, func(a string) bool {
			_, changes := fresh[a]
			return there[baseName(a)] && (!changes || isTarget[baseName(a)])
		})
	}
	claimed := make(map[string]bool)
	for i, target := range targets {
		var queue []string
		seen := make(map[string]bool)
		for _, in := range inst {
			if baseName(in.name) == baseName(target) {
				queue, seen[in.name] = append(queue, in.name), true
			}
		}
		// A target the call does not install brings nothing: apt
		// has it already, as its own simulation would say.
		for len(queue) > 0 {
			n := queue[0]
			queue = queue[1:]
			claimed[n] = true
			if fresh[n] && baseName(n) != baseName(target) {
				per[i] = append(per[i], n)
			}
			for _, alts := range deps[n] {
				if satisfied(alts) {
					continue
				}
				for _, a := range alts {
					if _, in := fresh[a]; in && !seen[a] {
						queue, seen[a] = append(queue, a), true
					}
				}
			}
		}
		slices.Sort(per[i])
	}
	for n, isFresh := range fresh {
		if isFresh && !claimed[n] {
			return per, false
		}
	}
	return per, true
}

// parseDepends reads apt-cache depends output (not recursive): for each
// package, a line of its name, its dependencies, each a set of
// alternatives: "  Depends: NAME" starts one, " |Depends: NAME" is an
// alternative the next line continues, and the lines indented by four
// spaces under one name the packages that provide it (those under no
// name of the block, a set of their own). A virtual name ("<NAME>")
// stands for its providers alone. Only Depends, PreDepends and Recommends
// count.
func parseDepends(out string) map[string][][]string {
	deps := make(map[string][][]string)
	var cur string
	cont, inDep := false, false
	for _, line := range strings.Split(out, "\n") {
		switch {
		case line == "":
		case line[0] != ' ':
			cur, cont, inDep = "", false, false
			if validPkgName(line) {
				cur = line
				if _, ok := deps[cur]; !ok {
					deps[cur] = nil
				}
			}
		case cur == "":
		case strings.HasPrefix(line, "    "):
			// A provider: of the dependency above, or, when apt left that
			// out (--installed, a target not installed), of one of its own.
			if n := strings.TrimSpace(line); validPkgName(n) {
				if !inDep {
					deps[cur], inDep, cont = append(deps[cur], nil), true, false
				}
				g := deps[cur]
				g[len(g)-1] = append(g[len(g)-1], n)
			}
		default:
			typ, name, found := strings.Cut(strings.TrimSpace(line), ": ")
			alt := strings.HasPrefix(typ, "|")
			typ = strings.TrimPrefix(typ, "|")
			inDep = found && (typ == "Depends" || typ == "PreDepends" || typ == "Recommends")
			if !inDep {
				cont = false
				continue
			}
			if !cont {
				deps[cur] = append(deps[cur], nil)
			}
			if validPkgName(name) {
				g := deps[cur]
				g[len(g)-1] = append(g[len(g)-1], name)
			}
			cont = alt
		}
	}
	return deps
}
