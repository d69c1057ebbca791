package packages

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"trail/apply/internal/proc"
	"trail/apply/kind"
	"trail/stepfmt"
)

// policy runs apt-cache policy for name alone.
func (t Tools) policy(name string) (Policy, error) {
	out, err := t.Apt("apt-cache", "policy", name)
	if err != nil {
		return Policy{}, err
	}
	var p Policy
	p.Versions, p.Candidate = ParsePolicy(out)
	return p, nil
}

// policies returns the policy of each of names with one apt-cache policy
// call, which takes many names and prints a block for each it knows,
// headed by the package's name. A name whose block the output does not
// head with that name (one naming an architecture, one apt does not know
// or resolves to another package) gets a call of its own, so that each
// answer is the one policy gives.
func (t Tools) policies(names []string) (map[string]Policy, error) {
	out := make(map[string]Policy, len(names))
	var plain []string
	for _, n := range names {
		if !strings.Contains(n, ":") && !slices.Contains(plain, n) {
			plain = append(plain, n)
		}
	}
	if len(plain) > 1 {
		text, err := t.Apt("apt-cache", append([]string{"policy"}, plain...)...)
		if err != nil {
			return nil, err
		}
		for name, p := range ParsePolicies(text) {
			if slices.Contains(plain, name) {
				out[name] = p
			}
		}
	}
	for _, n := range names {
		if _, ok := out[n]; ok {
			continue
		}
		p, err := t.policy(n)
		if err != nil {
			return nil, err
		}
		out[n] = p
	}
	return out, nil
}

// planPolicies are the policies of the packages a plan's PKG steps
// install, kept in the Exec for the plan's checks (planPoliciesKey): one
// apt-cache policy for all of them, on the first check that needs one,
// in place of one a check. A run's capture forgets them: from then on
// the machine changes, and apt is asked again.
type planPolicies struct {
	names []string
	got   map[string]Policy
}

type planPoliciesKey struct{}

// keepPlanNames records the packages the plan's PKG steps would install.
func keepPlanNames(x *kind.Exec, p *stepfmt.Plan) {
	pp := &planPolicies{}
	for _, c := range p.Changes {
		if c.Step.Kind == stepfmt.KindPackage && c.Op != stepfmt.OpRemove && !c.Step.Absent() {
			pp.names = append(pp.names, c.Step.Target)
		}
	}
	x.Keep(planPoliciesKey{}, pp)
}

// planSource is source's error for a check of a plan: from the plan's
// policies when it recorded the step's package, else from a call alone.
func planSource(x *kind.Exec, s *stepfmt.Step, pin string) error {
	t := pkgToolsOf(x)
	pp, _ := x.Kept(planPoliciesKey{}).(*planPolicies)
	if pp == nil || !slices.Contains(pp.names, s.Target) {
		_, err := t.source(s.Target, pin)
		return err
	}
	if err := t.usable(); err != nil {
		return err
	}
	if pp.got == nil {
		got, err := t.policies(pp.names)
		if err != nil {
			return err
		}
		pp.got = got
	}
	_, err := t.sourceOf(s.Target, pin, pp.got[s.Target])
	return err
}

// Policy is what apt-cache policy says of one package: the versions apt
// can install and its candidate ("" for none). No versions means apt does
// not know the package.
type Policy struct {
	Versions  []string
	Candidate string
}

// ParsePolicies reads the output of apt-cache policy for many names: a
// block per package, headed by a line "NAME:" that is not indented, read
// as ParsePolicy reads one. A name heading two blocks keeps the first.
func ParsePolicies(out string) map[string]Policy {
	blocks := make(map[string]Policy)
	lines := strings.SplitAfter(out, "\n")
	for i := 0; i < len(lines); {
		head := strings.TrimRight(lines[i], "\r\n")
		name, ok := strings.CutSuffix(head, ":")
		j := i + 1
		for j < len(lines) && !isPolicyHead(lines[j]) {
			j++
		}
		if ok && isPolicyHead(lines[i]) {
			if _, seen := blocks[name]; !seen {
				var p Policy
				p.Versions, p.Candidate = ParsePolicy(strings.Join(lines[i:j], ""))
				blocks[name] = p
			}
		}
		i = j
	}
	return blocks
}

// isPolicyHead reports whether line heads a package's block: not
// indented, a name and a colon.
func isPolicyHead(line string) bool {
	line = strings.TrimRight(line, "\r\n")
	return len(line) > 1 && line[0] != ' ' && line[0] != '\t' && strings.HasSuffix(line, ":")
}

// ParsePolicy reads apt-cache policy output: the candidate, and the
// versions of the version table (lines indented by five spaces, or
// marked " *** " for the installed one; their sources are indented more).
func ParsePolicy(out string) (versions []string, candidate string) {
	table := false
	for _, line := range strings.Split(out, "\n") {
		trim := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trim, "Candidate:"):
			candidate = strings.TrimSpace(strings.TrimPrefix(trim, "Candidate:"))
			if candidate == "(none)" {
				candidate = ""
			}
		case trim == "Version table:":
			table = true
		case table && (strings.HasPrefix(line, " *** ") || len(line) > 5 && line[:5] == "     " && line[5] != ' '):
			if f := strings.Fields(strings.TrimPrefix(line, " *** ")); len(f) > 0 {
				versions = append(versions, f[0])
			}
		}
	}
	return versions, candidate
}

// archiveDeb finds the .deb of name (at version, when given) in the root's
// apt archive directory, for roots whose apt has no lists. It returns the
// host path and the version found, the newest when several match.
func (t Tools) archiveDeb(name, version string) (string, string, error) {
	base, _, _ := strings.Cut(name, ":")
	dir := t.host("/var/cache/apt/archives")
	matches, err := filepath.Glob(filepath.Join(dir, base+"_*.deb"))
	if err != nil {
		return "", "", err
	}
	sort.Strings(matches)
	var path, found string
	for _, m := range matches {
		out, err := proc.RunTool("dpkg-deb", "-f", m, "Package", "Version")
		if err != nil {
			continue
		}
		var p, v string
		for _, line := range strings.Split(out, "\n") {
			k, val, _ := strings.Cut(line, ":")
			switch k {
			case "Package":
				p = strings.TrimSpace(val)
			case "Version":
				v = strings.TrimSpace(val)
			}
		}
		if p == base && (version == "" || v == version) && (found == "" || newer(v, found)) {
			path, found = m, v
		}
	}
	return path, found, nil
}

// source returns what to name on apt-get's command line to install name
// (at version, when given): name, name=version, or the path of a .deb in
// the root's archive directory. Its error says why the package cannot be
// installed and what to do.
func (t Tools) source(name, version string) (string, error) {
	if err := t.usable(); err != nil {
		return "", err
	}
	p, err := t.policy(name)
	if err != nil {
		return "", err
	}
	return t.sourceOf(name, version, p)
}

// sources returns source's answer for each of steps (those that remove
// their package get none) from one apt-cache policy call (policies): a
// ref, or the error that step's source would return. err is for the
// call itself.
func (t Tools) sources(steps []*stepfmt.Step) (refs []string, errs []error, err error) {
	if err := t.usable(); err != nil {
		return nil, nil, err
	}
	var names []string
	for _, s := range steps {
		if !s.Absent() {
			names = append(names, s.Target)
		}
	}
	pol, err := t.policies(names)
	if err != nil {
		return nil, nil, err
	}
	refs, errs = make([]string, len(steps)), make([]error, len(steps))
	for i, s := range steps {
		if !s.Absent() {
			refs[i], errs[i] = t.sourceOf(s.Target, s.Value("version"), pol[s.Target])
		}
	}
	return refs, errs, nil
}

// refsOf is sources for steps that must all resolve: nothing for no
// steps, and the error of the first that does not, with its name.
func (t Tools) refsOf(steps []*stepfmt.Step) ([]string, error) {
	if len(steps) == 0 {
		return nil, nil
	}
	refs, errs, err := t.sources(steps)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", steps[0].Target, err)
	}
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("%s: %w", steps[i].Target, err)
		}
	}
	return refs, nil
}

// sourceOf is source given name's policy.
func (t Tools) sourceOf(name, version string, p Policy) (string, error) {
	versions, candidate := p.Versions, p.Candidate
	if version == "" && candidate != "" {
		return name, nil
	}
	for _, v := range versions {
		if version != "" && v == version {
			return name + "=" + version, nil
		}
	}
	if t.inRoot() {
		if deb, _, err := t.archiveDeb(name, version); err != nil || deb != "" {
			return deb, err
		}
	}
	where := "apt's lists (run apt-get update, or add the source that has it)"
	if t.inRoot() {
		where = "the root's apt lists nor as a .deb in " + t.host("/var/cache/apt/archives")
	}
	switch {
	case len(versions) == 0 && version == "":
		return "", fmt.Errorf("package %s does not exist in %s: check its name", name, where)
	case version == "":
		return "", fmt.Errorf("package %s has no installable version in %s", name, where)
	}
	known := "no version"
	if len(versions) > 0 {
		known = "only " + strings.Join(versions, ", ")
	}
	return "", fmt.Errorf("package %s has no version %s in %s (%s is known): change the pin or add the source that has it", name, version, where, known)
}

// oldVersionPolicies asks one apt-cache policy for the packages of going
// that were installed before trail at another version than now, whose
// old version is to be installed again; nil when there are none, or
// when the call fails (each then asks alone, and a package whose
// version cannot be had gets its own note).
func oldVersionPolicies(v *kind.View, t Tools, going []pkgGoing) (map[string]Policy, error) {
	var names []string
	for _, g := range going {
		orig, err := Unpack(g.img)
		if err != nil {
			return nil, err
		}
		if orig.State != Installed {
			continue
		}
		cur, err := pkgView(v, g.step.Target)
		if err != nil {
			return nil, err
		}
		if cur.State != Installed || cur.Version != orig.Version {
			names = append(names, g.step.Target)
		}
	}
	if len(names) < 2 || t.usable() != nil {
		return nil, nil
	}
	pol, err := t.policies(names)
	if err != nil {
		return nil, nil
	}
	return pol, nil
}

// sourceFrom is source, from pol when it holds name's policy.
func (t Tools) sourceFrom(name, version string, pol map[string]Policy) (string, error) {
	if p, ok := pol[name]; ok {
		return t.sourceOf(name, version, p)
	}
	return t.source(name, version)
}

// restorePolicies asks one apt-cache policy for the packages the works
// put back at an old version, when there are several.
func restorePolicies(t Tools, steps []*stepfmt.Step, works []kind.Work) (map[string]Policy, error) {
	var names []string
	for i, s := range steps {
		if slices.ContainsFunc(works[i].Changes, func(c string) bool { return strings.HasPrefix(c, "version ") }) {
			names = append(names, s.Target)
		}
	}
	if len(names) < 2 {
		return nil, nil
	}
	if err := t.usable(); err != nil {
		return nil, err
	}
	return t.policies(names)
}
