package packages

import (
	"fmt"
	"slices"
	"strings"

	"trail/apply/kind"
	"trail/apply/kinds/paths"
	"trail/internal/fsx"
	"trail/stepfmt"
)

// Package runs PKG steps with apt-get (see Tools for a root other than
// "/"). A step asks for the package installed, at its version when
// pinned, and marked manually installed, so that autoremove leaves it.
// Consecutive PKG steps of an apply are installed by one apt-get call
// (one per recommends setting). A package apt cannot install, or a pinned
// version it does not have, fails the plan at the step's source.
//
// The pre-image is dpkg's state of the package (installed, config-files,
// partial or absent), its version and apt's auto/manual mark. The reverse
// gives back the machine as it was before trail, decided over all the PKG
// removals of a plan together (remove.go): a package that was absent
// is purged (removed only when the step says purge=false), one that had
// config files left is removed, unless that would remove packages that
// stay, and the dependencies, system accounts and enablement links its
// install brought go too, as far as nothing that stays needs them
// (deps.go, brought.go). A package that was installed stays
// installed, at its old version when that is still available, with its
// old mark and its conffiles, as does one the install upgraded as a
// dependency (upgraded.go), whether a step declares it or not
// (upgradeddeclared.go). Drift is the package no longer installed,
// or not at its pinned version.
type Package struct{}

// The states of a package image besides StateAbsent.
const (
	Installed  = "installed"
	pkgConfig  = "config-files" // removed, its conffiles left
	pkgPartial = "partial"      // half-installed, unpacked, half-configured...
)

// pkgNS is the namespace of package identities.
const pkgNS = "package"

// pimgPkg is a package image unpacked. deps and brings are sorted comma
// lists: the packages trail's installs of it newly installed, and before
// an install has finished, those it is predicted to bring.
type pimgPkg struct {
	pkgStatus
	auto     bool
	deps     string
	brings   string
	confdeps string // those of deps that had config files left before
	users    string // accounts and links its maintainer scripts made (brought.go)
	groups   string
	Links    string
	depmarks string        // what its dependencies' scripts made, "DEP:user:NAME"... (depmarks.go)
	had      *machineMarks // in an undo image only: the marks before the install (undomarks.go)
	// before is, for a package an earlier install of trail brought as a
	// dependency, its state before that install (absent or config-files);
	// its users, groups and links are then those its scripts made.
	before string
	// upgraded names the packages installed before its install that the
	// install upgraded as its dependencies, with the version they had:
	// "NAME=VERSION"... (upgraded.go).
	upgraded string
	upgrades string // before an install has finished, those it is predicted to upgrade
	// upfrom is, for a package an earlier install of trail upgraded as
	// its dependency before a step declared it, the version it had before
	// that install (upgradeddeclared.go).
	upfrom string
}

// Image packs p as the step records it.
func (p pimgPkg) Image() kind.Image {
	m := kind.Image{State: p.State}
	if p.State == pkgPartial {
		m.Attrs = append(m.Attrs, stepfmt.Attr{Key: "status", Value: p.Status})
	}
	if p.Version != "" {
		m.Attrs = append(m.Attrs, stepfmt.Attr{Key: "version", Value: p.Version})
	}
	if p.State == Installed {
		mark := "manual"
		if p.auto {
			mark = "auto"
		}
		m.Attrs = append(m.Attrs, stepfmt.Attr{Key: "mark", Value: mark})
	}
	if p.deps != "" {
		m.Attrs = append(m.Attrs, stepfmt.Attr{Key: "deps", Value: p.deps})
	}
	for _, a := range []stepfmt.Attr{{Key: "brings", Value: p.brings}, {Key: "confdeps", Value: p.confdeps},
		{Key: "users", Value: p.users}, {Key: "groups", Value: p.groups}, {Key: "links", Value: p.Links},
		{Key: "depmarks", Value: p.depmarks}, {Key: "before", Value: p.before}, {Key: "upgraded", Value: p.upgraded}, {Key: "upgrades", Value: p.upgrades},
		{Key: "upgradedfrom", Value: p.upfrom}} {
		if a.Value != "" {
			m.Attrs = append(m.Attrs, a)
		}
	}
	if p.had != nil {
		m.Attrs = append(m.Attrs, hadAttrs(p.had)...)
	}
	return m
}

// Unpack reads the image of a package.
func Unpack(m kind.Image) (pimgPkg, error) {
	p := pimgPkg{pkgStatus: pkgStatus{State: m.State}}
	switch m.State {
	case "", kind.StateAbsent:
		p.State = kind.StateAbsent
	case Installed, pkgConfig, pkgPartial:
	default:
		return p, fmt.Errorf("package image %q: unknown state %q", m, m.State)
	}
	for _, a := range m.Attrs {
		switch a.Key {
		case "version":
			p.Version = a.Value
		case "status":
			p.Status = a.Value
		case "mark":
			if a.Value != "auto" && a.Value != "manual" {
				return p, fmt.Errorf("package image %q: mark must be auto or manual", m)
			}
			p.auto = a.Value == "auto"
		case "deps", "brings", "confdeps", "users", "groups", "links", "depmarks":
			canon, dst := canonNames, map[string]*string{"deps": &p.deps, "brings": &p.brings, "confdeps": &p.confdeps,
				"users": &p.users, "groups": &p.groups, "links": &p.Links, "depmarks": &p.depmarks}[a.Key]
			switch a.Key {
			case "users", "groups":
				canon = canonAccounts
			case "links":
				canon = canonLinks
			case "depmarks":
				canon = canonDepMarks
			}
			list, err := canon(a.Value)
			if err != nil {
				return p, fmt.Errorf("package image %q: %s: %w", m, a.Key, err)
			}
			*dst = list
		case "upgraded", "upgrades":
			list, err := canonUpgraded(a.Value)
			if err != nil {
				return p, fmt.Errorf("package image %q: %s: %w", m, a.Key, err)
			}
			if a.Key == "upgraded" {
				p.upgraded = list
			} else {
				p.upgrades = list
			}
		case "upgradedfrom":
			if !validVersion(a.Value) {
				return p, fmt.Errorf("package image %q: upgradedfrom %q is not a version", m, a.Value)
			}
			p.upfrom = a.Value
		case "before":
			if a.Value != kind.StateAbsent && a.Value != pkgConfig {
				return p, fmt.Errorf("package image %q: before must be %s or %s", m, kind.StateAbsent, pkgConfig)
			}
			p.before = a.Value
		case "had-users", "had-groups", "had-links":
			if err := p.setHad(a.Key, a.Value); err != nil {
				return p, fmt.Errorf("package image %q: %s: %w", m, a.Key, err)
			}
		default:
			return p, fmt.Errorf("package image %q: unknown attribute %s", m, a.Key)
		}
	}
	return p, nil
}

// Read reads the package's whole present image.
func Read(x *kind.Exec, name string) (pimgPkg, error) {
	t := pkgToolsOf(x)
	if err := t.usable(); err != nil {
		return pimgPkg{}, err
	}
	st, err := t.Status(name)
	if err != nil {
		return pimgPkg{}, err
	}
	return withMark(t, name, st)
}

// withMark is the image of a package in state st, with its mark.
func withMark(t Tools, name string, st pkgStatus) (pimgPkg, error) {
	p := pimgPkg{pkgStatus: st}
	var err error
	if st.State == Installed {
		p.auto, err = t.AutoMarked(name)
	}
	return p, err
}

// pkgView is Read through a view's predictions.
func pkgView(v *kind.View, name string) (pimgPkg, error) {
	img, err := v.Lookup(pkgNS, name, func() (kind.Image, error) {
		p, err := Read(v.Exec(), name)
		return p.Image(), err
	})
	if err != nil {
		return pimgPkg{}, err
	}
	return Unpack(img)
}

// Check plans installing the package, changing its version to the pin, or
// marking it manually installed.
func (Package) Check(v *kind.View, s *stepfmt.Step, prior *kind.Record) (kind.Work, error) {
	cur, err := pkgView(v, s.Target)
	if err != nil {
		return kind.Work{}, err
	}
	if s.Absent() {
		return absentWork(v, s, cur)
	}
	pin := s.Value("version")
	w := kind.Work{Before: cur.Image(), After: kind.Image{State: Installed}}
	if pin != "" {
		w.After.Attrs = []stepfmt.Attr{{Key: "version", Value: pin}}
	}
	next := pimgPkg{pkgStatus: pkgStatus{State: Installed, Version: cur.Version}}
	switch {
	case cur.State != Installed:
		next.Version = pin
		w.Changes = append(w.Changes, strings.TrimSpace("install "+pin))
	case pin != "" && cur.Version != pin:
		next.Version = pin
		w.Changes = append(w.Changes, "version "+cur.Version+" -> "+pin)
	}
	if auto, ok := newMark(cur, next); ok {
		w.Changes = append(w.Changes, markPhrase(auto))
	}
	if needsInstall(w) && v.Planning() {
		if err := planSource(v.Exec(), s, pin); err != nil {
			if _, _, later := sourcesBefore(v.Exec(), s); !later {
				return kind.Work{}, err
			}
			w.Notes = append(w.Notes, afterUpdate)
		}
	}
	w.Target = next.Image()
	settle(&w)
	v.Predict(pkgNS, s.Target, w.Target)
	if needsInstall(w) {
		if err := predictOwned(v, s); err != nil {
			return kind.Work{}, err
		}
	}
	return w, nil
}

// predictOwned tells the view that the paths the package owns (owns=),
// and the directories above them, will be directories once it is
// installed, so that later steps of the plan may write under them. A
// path that is already there keeps what the machine shows, and an owned
// path the list writes as a file or link is not predicted itself.
func predictOwned(v *kind.View, s *stepfmt.Step) error {
	for _, p := range s.List("owns") {
		v.Own(p)
		var chain []string
		for a := p; a != "/"; a = fsx.Parent(a) {
			if a != p || !v.Exec().Planned("nondir:"+a) {
				chain = append(chain, a)
			}
		}
		for i := len(chain) - 1; i >= 0; i-- {
			cur, err := paths.ViewOf(v, chain[i])
			if err != nil {
				return err
			}
			if cur.Absent() {
				v.Predict(paths.NS, chain[i], paths.Object{State: paths.StDir, Mode: 0o755, HasMode: true, HasUID: true, HasGID: true}.Image())
			}
		}
	}
	return nil
}

func needsInstall(w kind.Work) bool {
	for _, c := range w.Changes {
		if strings.HasPrefix(c, "install") || strings.HasPrefix(c, "version ") {
			return true
		}
	}
	return false
}

// Capture reads the package's state, version and mark and, when the step
// will install it, what apt predicts the install brings along; when an apt
// source changed before it in the apply, it runs apt-get update first
// (aptsources.go).
func (k Package) Capture(x *kind.Exec, s *stepfmt.Step) (kind.Image, error) {
	imgs, err := k.CaptureGroup(x, []*stepfmt.Step{s})
	if err != nil {
		return kind.Image{}, err
	}
	return imgs[0], nil
}

// CaptureGroup captures the steps of a group as Capture does each, with
// one dpkg-query for their states (Statuses) and one prediction for all
// of their installs (predict.go): one apt-cache policy, one apt-get -s
// and one apt-cache depends, where one step alone takes an apt-cache
// policy and an apt-get -s.
func (Package) CaptureGroup(x *kind.Exec, steps []*stepfmt.Step) ([]kind.Image, error) {
	x.Keep(planPoliciesKey{}, nil) // the plan's answers; the machine changes from here on
	ps := make([]pimgPkg, len(steps))
	var installs []*stepfmt.Step
	var at []int
	for _, s := range steps {
		if err := updateLists(x, s); err != nil {
			return nil, failedIn(steps, s, err)
		}
	}
	t := pkgToolsOf(x)
	if err := t.usable(); err != nil {
		return nil, failedIn(steps, steps[0], err)
	}
	names := make([]string, len(steps))
	for i, s := range steps {
		names[i] = s.Target
	}
	sts, err := t.Statuses(names)
	if err != nil {
		return nil, failedIn(steps, steps[0], err)
	}
	for i, s := range steps {
		p, err := withMark(t, s.Target, sts[s.Target])
		if err != nil {
			return nil, failedIn(steps, s, err)
		}
		if p.State == Installed && !s.Absent() {
			if err := p.withBroughtBefore(x, t, s); err != nil {
				return nil, failedIn(steps, s, err)
			}
			if err := p.withUpgradedBefore(x, s.Target); err != nil {
				return nil, failedIn(steps, s, err)
			}
		}
		ps[i] = p
		if pin := s.Value("version"); !s.Absent() && (p.State != Installed || pin != "" && pin != p.Version) {
			installs, at = append(installs, s), append(at, i)
		}
	}
	brings, ups := predict(t, installs)
	for j := range brings {
		ps[at[j]].brings, ps[at[j]].upgrades = kind.JoinNames(brings[j]), kind.JoinNames(ups[j])
	}
	imgs := make([]kind.Image, len(steps))
	for i, p := range ps {
		imgs[i] = p.Image()
	}
	return imgs, nil
}

// withBroughtBefore records in p, the image of s's installed package,
// whether an earlier install of trail brought it (broughtBefore), with
// the marks its scripts made then and, as its own dependencies, those of
// its installed closure trail's installs brought (sharedDeps): they go
// with it.
func (p *pimgPkg) withBroughtBefore(x *kind.Exec, t Tools, s *stepfmt.Step) error {
	before, marks := broughtBefore(x, s.Target)
	if before == "" {
		return nil
	}
	p.before = before
	var users, groups, links []string
	for _, mk := range marks {
		k, n, _ := strings.Cut(mk, ":")
		switch k {
		case "user":
			users = append(users, n)
		case "group":
			groups = append(groups, n)
		case "link":
			links = append(links, n)
		}
	}
	p.users, p.groups, p.Links = kind.JoinNames(users), kind.JoinNames(groups), kind.JoinNames(links)
	installed, err := t.installed()
	if err != nil {
		return err
	}
	need, err := t.closure(s.Target, s.Value("recommends") == "true")
	if err != nil {
		return err
	}
	var deps []string
	for _, d := range sharedDeps(x, sharedCandidates(x, installed, map[string]bool{baseName(s.Target): true}), need) {
		deps = append(deps, strings.TrimPrefix(d, "shared:"))
	}
	b := broughtParts(deps)
	p.deps, p.confdeps, p.depmarks = kind.JoinNames(b.deps), kind.JoinNames(b.conf), kind.JoinNames(b.by)
	return nil
}

// failedIn is err as one step of steps: a kind.StepFailed in a group of
// several, err itself for one step alone.
func failedIn(steps []*stepfmt.Step, s *stepfmt.Step, err error) error {
	if len(steps) == 1 {
		return err
	}
	return &kind.StepFailed{Step: s, Err: err}
}

// Forward installs one package; consecutive ones go through ForwardGroup.
func (k Package) Forward(x *kind.Exec, s *stepfmt.Step, w kind.Work) error {
	return k.ForwardGroup(x, []*stepfmt.Step{s}, []kind.Work{w})
}

// ForwardGroup removes the absent packages (absent.go), installs every
// package that needs it in one apt-get call per recommends setting, then
// marks the rest manually installed. It
// names what each call brought along (installBringing).
func (k Package) ForwardGroup(x *kind.Exec, steps []*stepfmt.Step, works []kind.Work) error {
	if err := updateLists(x, steps[0]); err != nil {
		return err
	}
	var gone []*stepfmt.Step
	var goneWorks []kind.Work
	for i, s := range steps {
		if s.Absent() {
			gone, goneWorks = append(gone, s), append(goneWorks, works[i])
		}
	}
	if err := k.forwardAbsent(x, gone, goneWorks); err != nil {
		return err
	}
	t := pkgToolsOf(x)
	var want []*stepfmt.Step
	for i, s := range steps {
		if !s.Absent() && needsInstall(works[i]) {
			want = append(want, s)
		}
	}
	wantRefs, err := t.refsOf(want)
	if err != nil {
		return err
	}
	refs := map[bool][]string{}
	installs := map[bool][]*stepfmt.Step{}
	var marks []string
	for i, s := range steps {
		switch {
		case s.Absent():
		case needsInstall(works[i]):
			ref := wantRefs[slices.Index(want, s)]
			rec := s.Value("recommends") == "true"
			refs[rec] = append(refs[rec], ref)
			installs[rec] = append(installs[rec], s)
		default:
			if _, ok := markOf(works[i]); ok {
				marks = append(marks, s.Target)
			}
		}
	}
	for _, rec := range []bool{false, true} {
		if len(refs[rec]) > 0 {
			if err := installBringing(x, t, installs[rec], refs[rec], rec); err != nil {
				return err
			}
		}
	}
	if len(marks) > 0 {
		return t.Mark(false, marks...)
	}
	return nil
}

// CheckRestore plans bringing the package back to its pre-image, as its
// share of the decision over the plan's PKG removals (remove.go).
func (Package) CheckRestore(v *kind.View, s *stepfmt.Step, img kind.Image) (kind.Work, error) {
	return removalWork(v, s, img)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Restore removes, reinstalls or re-marks the package, with its
// dependencies, accounts and links, as CheckRestore planned.
func (k Package) Restore(x *kind.Exec, s *stepfmt.Step, img kind.Image, w kind.Work) error {
	return k.RestoreGroup(x, []*stepfmt.Step{s}, []kind.Image{img}, []kind.Work{w})
}

// Drift reads the package in the shape of what trail left: its state, and
// its version when the step pins one.
func (Package) Drift(x *kind.Exec, target string, wrote kind.Image) (kind.Image, error) {
	p, err := Read(x, target)
	if err != nil {
		return kind.Image{}, err
	}
	if wrote.IsAbsent() {
		return absentDrift(p, wrote), nil
	}
	now := kind.Image{State: p.State}
	if _, ok := wrote.Get("version"); ok {
		now.Attrs = []stepfmt.Attr{{Key: "version", Value: p.Version}}
	}
	return now, nil
}
