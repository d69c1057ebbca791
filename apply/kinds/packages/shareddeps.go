package packages

import (
	"slices"
	"strings"

	"trail/apply/kind"
	"trail/stepfmt"
)

// A dependency trail's install brought for one package may be needed by a
// package another call installs later (another apply, or the next batch
// of the same group): that call finds it installed and brings nothing.
// Removing the first package alone then keeps it, as the other needs it,
// and no record would name it any more when the other goes: it would
// stay for good. So an install also lists, as brought, the packages of
// its installed closure that an earlier install of trail brought (its
// own record's, the plan's records', or a call of this run), marked
// "conf:" as that record had them, with the accounts and links their
// scripts made (depmarks.go), so that whichever of the packages needing
// it goes last takes it and them (sharedDeps). They go to the step's
// origin, not to the undo image of its change: the record that brought
// such a package stays, or is undone in the same apply, and takes it.

// trailDeps are the packages trail's installs brought, by the records of
// the plan's PKG steps and the calls of the run so far, each with
// whether it had config files left before trail installed it (conf),
// and the marks their scripts made, by base name ("user:NAME"...).
type trailDeps struct {
	conf     map[string]bool
	marks    map[string][]string
	upgraded map[string]string // packages they upgraded, by name: the version before (upgraded.go)
	// left are the versions they left those packages at, by name, where
	// their records say (upgraded.go)
	left map[string][]string
}

type trailDepsKey struct{}

// addMark records that dep's scripts made mark.
func (td *trailDeps) addMark(dep, mark string) {
	if !slices.Contains(td.marks[dep], mark) {
		td.marks[dep] = append(td.marks[dep], mark)
	}
}

// keepPlanFacts records what the plan's PKG steps need later: its apt
// source changes (planSources), the packages it installs (keepPlanNames)
// and what the records of its PKG steps brought (trailDeps).
func keepPlanFacts(x *kind.Exec, p *stepfmt.Plan, l *stepfmt.List, applied func(stepfmt.ID) *kind.Record) {
	planSources(x, p)
	keepPlanNames(x, p)
	td := &trailDeps{conf: map[string]bool{}, marks: map[string][]string{}, upgraded: map[string]string{}, left: map[string][]string{}}
	add := func(s *stepfmt.Step) {
		if s.Kind != stepfmt.KindPackage {
			return
		}
		rec := applied(s.ID())
		if rec == nil {
			return
		}
		o, err := Unpack(rec.Origin)
		if err != nil {
			return
		}
		conf := kind.SplitNames(o.confdeps)
		for _, d := range kind.SplitNames(o.deps) {
			td.conf[d] = td.conf[d] || hasName(conf, d)
		}
		for _, dm := range kind.SplitNames(o.depmarks) {
			d, mark, _ := strings.Cut(dm, ":")
			td.addMark(d, mark)
		}
		td.addUpgraded(kind.SplitNames(o.upgraded))
	}
	for _, s := range l.Steps {
		add(s)
	}
	for _, c := range p.Changes {
		if c.Op == stepfmt.OpRemove {
			add(c.Step)
		}
	}
	x.Keep(trailDepsKey{}, td)
}

// sharedCandidates are the packages of the run's trailDeps that were
// installed before a call (before) and are none of its targets: those a
// step of the call may need.
func sharedCandidates(x *kind.Exec, before, targets map[string]bool) []string {
	td, _ := x.Kept(trailDepsKey{}).(*trailDeps)
	if td == nil {
		return nil
	}
	var out []string
	for n := range td.conf {
		if before[n] && !targets[baseName(n)] {
			out = append(out, n)
		}
	}
	return out
}

// sharedDeps returns the candidates need (a step's installed closure)
// holds, as brought ones for the step's origin alone: "shared:", then
// "conf:" as trailDeps has them, and "shared:by:DEP:MARK" for the marks
// their scripts made (WithBrought).
func sharedDeps(x *kind.Exec, cands, need []string) []string {
	td, _ := x.Kept(trailDepsKey{}).(*trailDeps)
	if td == nil {
		return nil
	}
	var out []string
	for _, n := range cands {
		if !hasName(need, n) {
			continue
		}
		for _, mark := range td.marks[baseName(n)] {
			out = append(out, "shared:by:"+baseName(n)+":"+mark)
		}
		if td.conf[n] {
			n = "conf:" + n
		}
		out = append(out, "shared:"+n)
	}
	return out
}

// keepBrought adds what a call brought to the run's trailDeps (none when
// no plan recorded them), conf those that had config files left, and
// the marks the call's dependencies made (marksOf, per step, as
// AttributeMarks shares them out).
func keepBrought(x *kind.Exec, brought []string, conf map[string]bool, marksOf [][]string) {
	td, _ := x.Kept(trailDepsKey{}).(*trailDeps)
	if td == nil {
		return
	}
	for _, n := range brought {
		td.conf[n] = td.conf[n] || conf[n]
	}
	for _, ms := range marksOf {
		for _, m := range ms {
			if rest, ok := strings.CutPrefix(m, "by:"); ok {
				d, mark, _ := strings.Cut(rest, ":")
				td.addMark(d, mark)
			}
		}
	}
}

// broughtBefore returns, for a package an earlier install of trail
// brought (trailDeps), its state before that install (absent, or
// config-files) and the marks its scripts made; "" for any other. A step
// declaring it later records them (CaptureGroup), so that a rollback to
// before trail takes it once no record of the installs that brought it is
// left to (planMove).
func broughtBefore(x *kind.Exec, name string) (string, []string) {
	td, _ := x.Kept(trailDepsKey{}).(*trailDeps)
	if td == nil {
		return "", nil
	}
	state := ""
	for n, conf := range td.conf {
		switch {
		case baseName(n) != baseName(name):
		case conf:
			state = pkgConfig
		case state == "":
			state = kind.StateAbsent
		}
	}
	if state == "" {
		return "", nil
	}
	return state, td.marks[baseName(name)]
}
