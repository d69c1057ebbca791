package packages

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"trail/apply/internal/proc"
	"trail/apply/kind"
)

// Tools runs apt and dpkg for one root. On "/" they are the ordinary
// commands. Under another root every call gets the root: dpkg-query
// --root=ROOT, and apt with -o Dir=ROOT (its configuration, lists, cache
// and extended_states under the root), -o Dir::State::status=ROOT/...
// (dpkg's status file) and -o DPkg::Options::=--root=ROOT (dpkg installs
// into the root and runs maintainer scripts chrooted there). Such a root
// needs dpkg's database (var/lib/dpkg with status, info, updates) and
// apt's directories (etc/apt, var/lib/apt/lists/partial,
// var/cache/apt/archives/partial). apt resolves names from the root's
// own lists (after an apt-get update in the root); without them a
// package is installed from a .deb in ROOT/var/cache/apt/archives, which
// is where apt keeps what it downloads. Packages whose maintainer scripts
// need programs the root lacks fail there, as they would in a chroot.
type Tools struct{ Root string }

func pkgToolsOf(x *kind.Exec) Tools { return Tools{Root: filepath.Clean(x.Root.Dir())} }

func (t Tools) inRoot() bool { return t.Root != "/" }

func (t Tools) host(p string) string {
	if !t.inRoot() {
		return p
	}
	return t.Root + p
}

// AptOpts are the options that point apt at the root.
func (t Tools) AptOpts() []string {
	if !t.inRoot() {
		return nil
	}
	return []string{"-o", "Dir=" + t.Root, "-o", "Dir::State::status=" + t.host("/var/lib/dpkg/status"),
		"-o", "DPkg::Options::=--root=" + t.Root}
}

// aptHooks are the lists of commands apt runs around dpkg and updates.
// Under a root they are cleared: apt would run the root's on this
// machine, not in the root.
var aptHooks = []string{"DPkg::Pre-Invoke", "DPkg::Post-Invoke", "DPkg::Pre-Install-Pkgs",
	"APT::Update::Pre-Invoke", "APT::Update::Post-Invoke", "APT::Update::Post-Invoke-Success"}

// Apt runs an apt program (apt-get, apt-cache, apt-mark) on the root.
// Under another root than "/" apt reads the root's configuration and
// never this machine's: a configuration file trail writes for the call
// is apt's APT_CONFIG, which apt reads before its configuration
// directories, and it sets Dir to the root, so that etc/apt/apt.conf.d
// and etc/apt/apt.conf are the root's. The same file, given again with
// -c (read after them), clears the hooks (aptHooks) and turns off apt's
// binary caches, so that a plan's queries write nothing in the root.
// Without it a host
// setting such as a post-invoke hook that cleans /var/cache/apt would act
// on this machine during a sandboxed apply.
func (t Tools) Apt(name string, args ...string) (string, error) {
	if !t.inRoot() {
		return proc.RunTool(name, args...)
	}
	if strings.ContainsAny(t.Root, "\"\n") {
		return "", fmt.Errorf("%s: the root %q has a quote or a newline in its path, which apt's configuration cannot hold", name, t.Root)
	}
	f, err := os.CreateTemp("", "trail-apt-*.conf")
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	defer os.Remove(f.Name())
	var b strings.Builder
	fmt.Fprintf(&b, "Dir \"%s/\";\n", t.Root)
	for _, h := range aptHooks {
		fmt.Fprintf(&b, "#clear %s;\n", h)
	}
	// No binary caches in the root: a plan's queries write nothing there.
	b.WriteString("Dir::Cache::pkgcache \"\";\nDir::Cache::srcpkgcache \"\";\n")
	if _, err := f.WriteString(b.String()); err != nil {
		f.Close()
		return "", fmt.Errorf("%s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	args = append(append([]string{"-c", f.Name()}, t.AptOpts()...), args...)
	return proc.RunToolEnv([]string{"APT_CONFIG=" + f.Name()}, name, args...)
}

// usable reports why the root cannot take packages, or nil.
func (t Tools) usable() error {
	if _, err := os.Stat(t.host("/var/lib/dpkg/status")); err != nil {
		return fmt.Errorf("%s has no dpkg database (var/lib/dpkg/status): packages can only be managed in a Debian root", t.Root)
	}
	return nil
}

// pkgStatus is what dpkg knows of a package.
type pkgStatus struct {
	State   string // installed, config-files, partial or absent
	Status  string // dpkg's own word for a partial state: half-installed, unpacked, ...
	Version string
}

// Status asks dpkg-query for the package's state and version.
func (t Tools) Status(name string) (pkgStatus, error) {
	args := []string{"-W", "-f", "${Status}\t${Version}\n", name}
	if t.inRoot() {
		args = append([]string{"--root=" + t.Root}, args...)
	}
	out, err := proc.RunTool("dpkg-query", args...)
	if err != nil {
		if proc.ExitStatus(err) == 1 && strings.TrimSpace(out) == "" {
			return pkgStatus{State: kind.StateAbsent}, nil
		}
		return pkgStatus{}, err
	}
	return bestStatus(strings.Split(strings.TrimSpace(out), "\n")), nil
}

// Statuses is Status for each of names with one dpkg-query for those
// without an architecture qualifier (a line per instance, headed by its
// name; it exits 1 when it finds none of some names, which are absent).
// A qualified name gets a call of its own, as Status makes it.
func (t Tools) Statuses(names []string) (map[string]pkgStatus, error) {
	out := make(map[string]pkgStatus, len(names))
	var plain []string
	for _, n := range names {
		if !strings.Contains(n, ":") && !slices.Contains(plain, n) {
			plain = append(plain, n)
		}
	}
	if len(plain) > 1 {
		args := append([]string{"-W", "-f", "${Package}\t${Status}\t${Version}\n", "--"}, plain...)
		if t.inRoot() {
			args = append([]string{"--root=" + t.Root}, args...)
		}
		text, err := proc.RunTool("dpkg-query", args...)
		if err != nil && proc.ExitStatus(err) != 1 {
			return nil, err
		}
		lines := map[string][]string{}
		for _, line := range strings.Split(text, "\n") {
			if name, rest, ok := strings.Cut(line, "\t"); ok {
				lines[name] = append(lines[name], rest)
			}
		}
		for _, n := range plain {
			out[n] = bestStatus(lines[n])
		}
	}
	for _, n := range names {
		if _, ok := out[n]; ok {
			continue
		}
		st, err := t.Status(n)
		if err != nil {
			return nil, err
		}
		out[n] = st
	}
	return out, nil
}

// bestStatus reads dpkg-query's "STATUS\tVERSION" lines of one name: the
// most installed of its instances, absent for none.
func bestStatus(lines []string) pkgStatus {
	var best pkgStatus
	for _, line := range lines {
		status, version, _ := strings.Cut(line, "\t")
		f := strings.Fields(status)
		if len(f) != 3 {
			continue
		}
		st := pkgStatus{Version: version}
		switch f[2] {
		case "installed", "triggers-awaited", "triggers-pending":
			st.State = Installed
		case "config-files":
			st.State = pkgConfig
		case "not-installed":
			st.State, st.Version = kind.StateAbsent, ""
		default:
			st.State, st.Status = pkgPartial, f[2]
		}
		if best.State == "" || rankPkg(st.State) > rankPkg(best.State) {
			best = st
		}
	}
	if best.State == "" {
		best.State = kind.StateAbsent
	}
	return best
}

// rankPkg orders states so that a multi-arch name reports its most
// installed instance.
func rankPkg(state string) int {
	return map[string]int{kind.StateAbsent: 0, pkgConfig: 1, pkgPartial: 2, Installed: 3}[state]
}

// AutoMarked reports whether apt marks the package automatically
// installed, reading the extended_states file apt-mark reads.
func (t Tools) AutoMarked(name string) (bool, error) {
	f, err := os.Open(t.host("/var/lib/apt/extended_states"))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	base, arch, _ := strings.Cut(name, ":")
	var pkg, parch string
	auto := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			pkg, parch = "", ""
			continue
		}
		k, v, _ := strings.Cut(line, ":")
		v = strings.TrimSpace(v)
		switch k {
		case "Package":
			pkg = v
		case "Architecture":
			parch = v
		case "Auto-Installed":
			if pkg == base && (arch == "" || arch == parch) && v == "1" {
				auto = true
			}
		}
	}
	return auto, sc.Err()
}

// aptGet runs apt-get non-interactively, keeping changed conffiles as the
// admin left them and waiting for a dpkg lock held by another apt.
func (t Tools) aptGet(args ...string) error {
	base := []string{"-y", "-q", "-o", "DPkg::Lock::Timeout=300",
		"-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold"}
	_, err := t.Apt("apt-get", append(base, args...)...)
	return err
}

// installArgs are the apt-get arguments that install refs: two options,
// the verb, the refs.
func installArgs(refs []string, recommends bool) []string {
	args := []string{"--allow-downgrades", "--no-install-recommends"}
	if recommends {
		args[1] = "--install-recommends"
	}
	return append(append(args, "install"), refs...)
}

// install installs the given apt-get arguments in one call.
func (t Tools) install(refs []string, recommends bool) error {
	return t.aptGet(installArgs(refs, recommends)...)
}

// Mark sets apt's automatic (auto) or manual mark.
func (t Tools) Mark(auto bool, names ...string) error {
	verb := "manual"
	if auto {
		verb = "auto"
	}
	_, err := t.Apt("apt-mark", append([]string{verb}, names...)...)
	return err
}

// newer reports whether Debian version a is newer than b.
func newer(a, b string) bool {
	_, err := proc.RunTool("dpkg", "--compare-versions", a, "gt", b)
	return err == nil
}
