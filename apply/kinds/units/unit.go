package units

import (
	"errors"
	"fmt"
	"slices"

	"trail/apply/kind"
	"trail/apply/kinds/paths"
	"trail/stepfmt"
)

// Unit runs UNIT steps with systemctl (see unitTools for what applies
// where). A step manages whether the unit is enabled, masked and running;
// an attribute it does not give is left as found. masked=true excludes
// enabled=true and running=true.
//
// The pre-image is the unit's file state (is-enabled) and, on a live
// machine, its active state (is-active), or absent when it has no unit
// file. The reverse puts both back: a unit that was absent ends disabled
// and stopped, so that a package or FILE step removed after it leaves
// nothing running. Drift is the unit no longer enabled, masked or running
// as the step asked (e.g. disabled by hand).
//
// restart-on and reload-on name paths, each standing for itself and
// everything under it, and packages and commands (package:NAME,
// command:NAME); when one of the paths was written, changed or removed in
// an apply, a package installed, upgraded, downgraded or removed, or a
// command run or undone, the unit is restarted (restart-on) or, if only reload-on
// paths changed, reloaded, once, after every other change, unless it was
// just started; with reload=true restart-on reloads. A unit meant to run
// (running=true) is restarted even if it is not running (it may have
// failed on the file just fixed) and must be running afterwards, or the
// apply fails and is undone; after an undo the unit is restarted again
// to read the files put back (see restart.go). Without a live systemd
// the restart is reported, never faked.
type Unit struct{}

// unitNS is the namespace of unit identities.
const unitNS = "unit"

// stUnit is the state of a unit that has a unit file (or is masked).
const stUnit = "unit"

// Image packs u as the step records it.
func (u unitState) Image() kind.Image {
	if u.File == "" {
		return kind.Absent()
	}
	m := kind.Image{State: stUnit, Attrs: []stepfmt.Attr{{Key: "file", Value: u.File}}}
	if u.active != "" {
		m.Attrs = append(m.Attrs, stepfmt.Attr{Key: "active", Value: u.active})
	}
	return m
}

// Unpack reads the image of a unit.
func Unpack(m kind.Image) (unitState, error) {
	switch m.State {
	case "", kind.StateAbsent:
		return unitState{active: m.Value("active")}, nil
	case stUnit:
	default:
		return unitState{}, fmt.Errorf("unit image %q: unknown state %q", m, m.State)
	}
	u := unitState{File: m.Value("file"), active: m.Value("active")}
	if u.File == "" {
		return u, fmt.Errorf("unit image %q: a unit image needs its file state", m)
	}
	return u, nil
}

func unitView(v *kind.View, name string) (unitState, error) {
	img, err := v.Lookup(unitNS, name, func() (kind.Image, error) {
		u, err := unitToolsOf(v.Exec()).read(name)
		return u.Image(), err
	})
	if err != nil {
		return unitState{}, err
	}
	return Unpack(img)
}

// unitWant is what a check asks of a unit: each of enabled, masked and
// running is managed when its has* flag is set.
type unitWant struct {
	enabled, masked, running          bool
	hasEnabled, hasMasked, hasRunning bool
}

// wantOf reads a step; what prior's step managed and s does not goes back
// to its value in prior's origin, as a fresh apply would leave it.
func wantOf(s *stepfmt.Step, prior *kind.Record) (unitWant, error) {
	var w unitWant
	get := func(key string, val *bool, has *bool) {
		if v, ok := s.Get(key); ok {
			*val, *has = v == "true", true
		} else if prior != nil {
			if _, ok := prior.Wrote.Get(key); ok {
				o, _ := Unpack(prior.Origin)
				*val, *has = fromOrigin(o, key)
			}
		}
	}
	get("enabled", &w.enabled, &w.hasEnabled)
	get("masked", &w.masked, &w.hasMasked)
	get("running", &w.running, &w.hasRunning)
	if w.masked && w.enabled {
		return w, errors.New("a masked unit cannot be enabled: set enabled = false or masked = false")
	}
	if w.masked && w.running {
		return w, errors.New("a masked unit cannot run: set running = false or masked = false")
	}
	return w, nil
}

// fromOrigin returns what an origin image says of key, and whether it
// says anything that can be put back.
func fromOrigin(o unitState, key string) (bool, bool) {
	switch key {
	case "enabled":
		on, ok := enabledWord(o.File)
		return on, ok && !isMaskedWord(o.File)
	case "masked":
		return isMaskedWord(o.File), true
	case "running":
		return activeWord(o.active), o.active != "" || o.File == ""
	}
	return false, false
}

// Check plans enabling, disabling, masking, unmasking, starting and
// stopping the unit as the step asks.
func (Unit) Check(v *kind.View, s *stepfmt.Step, prior *kind.Record) (kind.Work, error) {
	want, err := wantOf(s, prior)
	if err != nil {
		return kind.Work{}, err
	}
	cur, err := unitView(v, s.Target)
	if err != nil {
		return kind.Work{}, err
	}
	if cur.File == "" && (want.enabled || want.running) {
		if err := expectUnitFile(v, s.Target); err != nil {
			return kind.Work{}, err
		}
	}
	return unitWork(v, s.Target, cur, want)
}

// expectUnitFile is the plan-time check that a unit with no unit file gets
// one from an earlier step: a path step writing it, or a package.
func expectUnitFile(v *kind.View, name string) error {
	if !v.Planning() {
		return fmt.Errorf("unit %s has no unit file under %s: install the package that ships it, or write it with a FILE step before this one", name, v.Exec().Root.Dir())
	}
	for _, dir := range unitDirs {
		for _, f := range unitFileNames(name) {
			if img, ok := v.Predicted(paths.NS, dir+"/"+f); ok && (img.State == paths.StFile || img.State == paths.StLink) {
				return nil
			}
		}
	}
	if v.Exec().Planned("package:*") {
		return nil
	}
	return fmt.Errorf("unit %s has no unit file under %s and no step of this list writes one: install the package that ships it, or write it with a FILE step before this one", name, v.Exec().Root.Dir())
}

// unitWork is the work that takes a unit from cur to want. Its Changes
// are systemctl verbs, run by unitDo in the order unitVerbs gives.
func unitWork(v *kind.View, name string, cur unitState, want unitWant) (kind.Work, error) {
	t := unitToolsOf(v.Exec())
	w := kind.Work{Before: cur.Image(), After: kind.Image{State: stUnit}}
	next := cur
	masked := isMaskedWord(cur.File)
	on, changeable := enabledWord(cur.File)
	add := func(verb string) { w.Changes = append(w.Changes, verb) }
	if want.hasMasked && want.masked && !masked {
		if on && changeable && want.hasEnabled {
			add("disable")
		}
		add("mask")
		next.File, masked = "masked", true
	}
	if want.hasMasked && !want.masked && masked {
		add("unmask")
		next.File, masked, on, changeable = "disabled", false, false, true
	}
	if want.hasEnabled && !masked {
		switch {
		case !changeable:
			w.Notes = append(w.Notes, fmt.Sprintf("unit %s is %s: it has no [Install] section to enable or disable, left as it is", name, cur.File))
		case want.enabled != on || w.Has("unmask"):
			add(map[bool]string{true: "enable", false: "disable"}[want.enabled])
			next.File = map[bool]string{true: "enabled", false: "disabled"}[want.enabled]
		}
	}
	if want.hasRunning {
		switch {
		case !t.live:
			w.Notes = append(w.Notes, fmt.Sprintf("running=%t not applicable: starting and stopping need a running systemd, and %s has none", want.running, t.root))
		case want.running && !activeWord(cur.active):
			add("start")
			next.active = "active"
		case !want.running && activeWord(cur.active):
			add("stop")
			next.active = "inactive"
		}
	}
	if next.File == "" && len(w.Changes) > 0 {
		next.File = "disabled"
	}
	w.After.Attrs = afterAttrs(want, next, t.live)
	w.Target = next.Image()
	v.Predict(unitNS, name, w.Target)
	return w, nil
}

// afterAttrs is the drift reference: the managed attributes as booleans,
// enabled only where systemctl can change it, running only on a live
// machine.
func afterAttrs(want unitWant, next unitState, live bool) []stepfmt.Attr {
	var out []stepfmt.Attr
	b := func(k string, v bool) { out = append(out, stepfmt.Attr{Key: k, Value: fmt.Sprint(v)}) }
	if _, ok := enabledWord(next.File); want.hasEnabled && ok && !isMaskedWord(next.File) {
		b("enabled", want.enabled)
	}
	if want.hasMasked {
		b("masked", want.masked)
	}
	if want.hasRunning && live {
		b("running", want.running)
	}
	return out
}

// unitVerbs is the order systemctl verbs run in: unmask before enabling,
// stop before masking, start last.
var unitVerbs = []string{"unmask", "disable", "enable", "stop", "mask", "reset-failed", "start"}

// unitDo runs the verbs of w. With check, a unit it starts must be
// running afterwards (settle); an undo does not check, it puts back what
// was there as well as it can.
func unitDo(x *kind.Exec, name string, w kind.Work, check bool) error {
	t := unitToolsOf(x)
	if err := t.reloadIfNeeded(name); err != nil {
		return err
	}
	for _, verb := range unitVerbs {
		if !w.Has(verb) {
			continue
		}
		var err error
		if verb == "start" {
			err = t.act(x, verb, name)
		} else {
			_, err = t.systemctl(verb, name)
		}
		if err == nil && verb == "start" && check {
			err = t.settle(name, verb)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Capture reads the unit's file and active state.
func (Unit) Capture(x *kind.Exec, s *stepfmt.Step) (kind.Image, error) {
	u, err := unitToolsOf(x).read(s.Target)
	return u.Image(), err
}

// Forward runs the systemctl verbs Check planned.
func (Unit) Forward(x *kind.Exec, s *stepfmt.Step, w kind.Work) error {
	return unitDo(x, s.Target, w, true)
}

// CheckRestore plans putting the unit back as the image says. An absent
// unit comes back disabled, unmasked and, when live, stopped; a unit that
// failed since (it could not start with the files of the apply undone)
// and had not failed before is reset (reset-failed), so that systemctl
// --failed does not keep listing it.
func (Unit) CheckRestore(v *kind.View, s *stepfmt.Step, img kind.Image) (kind.Work, error) {
	o, err := Unpack(img)
	if err != nil {
		return kind.Work{}, err
	}
	cur, err := unitView(v, s.Target)
	if err != nil {
		return kind.Work{}, err
	}
	var want unitWant
	want.masked, want.hasMasked = fromOrigin(o, "masked")
	want.enabled, want.hasEnabled = fromOrigin(o, "enabled")
	if unitToolsOf(v.Exec()).live {
		want.running, want.hasRunning = fromOrigin(o, "running")
	}
	if cur.File == "" {
		if want.masked {
			want = unitWant{masked: true, hasMasked: true}
		} else {
			want = unitWant{}
		}
	}
	w, err := unitWork(v, s.Target, cur, want)
	if err == nil && cur.active == "failed" && o.active != "failed" && !w.Has("start") {
		w.Changes = append(w.Changes, "reset-failed")
	}
	w.After = img
	return w, err
}

// Restore runs the verbs CheckRestore planned.
func (Unit) Restore(x *kind.Exec, s *stepfmt.Step, img kind.Image, w kind.Work) error {
	return unitDo(x, s.Target, w, false)
}

// Drift reads the unit in the shape of what trail left.
func (Unit) Drift(x *kind.Exec, target string, wrote kind.Image) (kind.Image, error) {
	t := unitToolsOf(x)
	u, err := t.read(target)
	if err != nil {
		return kind.Image{}, err
	}
	if u.File == "" {
		// A unit without a unit file is neither enabled, masked nor
		// running: what a step asking for all three false (an absent
		// unit) wants.
		if !wrote.IsAbsent() && !slices.ContainsFunc(wrote.Attrs, func(a stepfmt.Attr) bool { return a.Value != "false" }) {
			return wrote, nil
		}
		return kind.Absent(), nil
	}
	now := kind.Image{State: stUnit}
	for _, a := range wrote.Attrs {
		var v bool
		switch a.Key {
		case "enabled":
			v, _ = enabledWord(u.File)
		case "masked":
			v = isMaskedWord(u.File)
		case "running":
			v = activeWord(u.active)
		default:
			continue
		}
		now.Attrs = append(now.Attrs, stepfmt.Attr{Key: a.Key, Value: fmt.Sprint(v)})
	}
	return now, nil
}

// Triggers lists the step's restart-on and reload-on paths; with
// reload=true, restart-on only reloads.
func (Unit) Triggers(s *stepfmt.Step) (restart, reload []string) {
	if s.Value("reload") == "true" {
		return nil, s.List("restart-on")
	}
	return s.List("restart-on"), s.List("reload-on")
}

// restartVerb is the systemctl verb for a restart or reload of a unit.
// One meant to run (running=true) gets restart or reload-or-restart, which
// start it when it is not running, so that a unit that failed on a bad
// file comes back when the fixed file lands; one the step does not say
// should run gets the try- verbs, which leave it stopped if it is.
func restartVerb(run, reload bool) string {
	verb := "restart"
	if reload {
		verb = "reload-or-restart"
	}
	if !run {
		verb = "try-" + verb
	}
	return verb
}

// PlanRestart says what Restart would do because of tr: nothing when the
// unit is not meant to run or was started by this apply (did), and
// without a live systemd nothing but say what it would have done.
func (Unit) PlanRestart(x *kind.Exec, s *stepfmt.Step, did kind.Work, tr kind.Trigger) kind.Work {
	t := unitToolsOf(x)
	because := tr.Word()
	if s.Value("running") != "true" {
		because += " if running"
	}
	because += " (" + tr.Reason() + ")"
	switch {
	case s.Value("running") == "false" || s.Value("masked") == "true":
		return kind.Work{Notes: []string{"no " + tr.Word() + ": the unit is not meant to run"}}
	case did.Has("start"):
		return kind.Work{Notes: []string{"no " + tr.Word() + ": started by this apply with the new files"}}
	case !t.live:
		return kind.Work{Notes: []string{"would " + because + ": not applicable, " + t.root + " has no running systemd"}}
	}
	return kind.Work{Changes: []string{because}}
}

// Restart restarts or reloads the unit as PlanRestart says. A unit meant
// to run must be running afterwards (settle), or the restart fails.
func (k Unit) Restart(x *kind.Exec, s *stepfmt.Step, did kind.Work, tr kind.Trigger) (kind.Work, error) {
	w := k.PlanRestart(x, s, did, tr)
	if w.None() {
		return w, nil
	}
	t := unitToolsOf(x)
	run := s.Value("running") == "true"
	verb := restartVerb(run, tr.Reload)
	if err := t.reloadIfNeeded(s.Target); err != nil {
		return kind.Work{}, err
	}
	x.TakeReports()
	if err := t.act(x, verb, s.Target); err != nil {
		return kind.Work{}, err
	}
	w.Notes = x.TakeReports()
	if run {
		if err := t.settle(s.Target, verb); err != nil {
			return kind.Work{}, err
		}
	}
	return w, nil
}
