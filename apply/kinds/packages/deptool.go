package packages

import (
	"errors"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"trail/apply/internal/proc"
)

// listTimes reads when dpkg last wrote each package's file list
// (/var/lib/dpkg/info/NAME.list), by the list's name: dpkg writes it
// anew whenever it unpacks the package, so a call that upgraded or
// reinstalled a package changed its time.
func (t Tools) listTimes() (map[string]time.Time, error) {
	ents, err := os.ReadDir(t.host("/var/lib/dpkg/info"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := make(map[string]time.Time, len(ents)/4)
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".list")
		if !ok {
			continue
		}
		if fi, err := e.Info(); err == nil {
			out[name] = fi.ModTime()
		}
	}
	return out, nil
}

// relisted returns the packages whose file list was there before a call
// (was) and was written since (now), but targets: those the call
// upgraded or reinstalled as dependencies.
func relisted(was, now map[string]time.Time, targets map[string]bool) []string {
	var out []string
	for n, then := range was {
		if at, ok := now[n]; ok && !at.Equal(then) && !targets[baseName(n)] {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// installed returns the packages dpkg has installed in the root, by the
// names apt-get takes (name, or name:arch for a foreign architecture).
func (t Tools) installed() (map[string]bool, error) {
	set, _, err := t.installedAndConf()
	return set, err
}

// installedAndConf returns the installed packages and those removed with
// their config files left.
func (t Tools) installedAndConf() (map[string]bool, map[string]bool, error) {
	vers, conf, err := t.installedVersions()
	if err != nil {
		return nil, nil, err
	}
	set := make(map[string]bool, len(vers))
	for n := range vers {
		set[n] = true
	}
	return set, conf, nil
}

// installedVersions returns the installed packages with their versions,
// and those removed with their config files left.
func (t Tools) installedVersions() (map[string]string, map[string]bool, error) {
	args := []string{"-W", "-f", "${binary:Package}\t${Status}\t${Version}\n"}
	if t.inRoot() {
		args = append([]string{"--root=" + t.Root}, args...)
	}
	out, err := proc.RunTool("dpkg-query", args...)
	if err != nil {
		return nil, nil, err
	}
	return parseVersions(out), parseConfigOnly(out), nil
}

// dpkgLine splits a dpkg-query line of name, tab, status and, perhaps,
// tab, version.
func dpkgLine(line string) (name string, status []string, version string) {
	name, rest, _ := strings.Cut(line, "\t")
	st, version, _ := strings.Cut(rest, "\t")
	return name, strings.Fields(st), version
}

// parseConfigOnly reads dpkg-query lines as parseInstalled does: the
// names whose status is config-files.
func parseConfigOnly(out string) map[string]bool {
	set := make(map[string]bool)
	for _, line := range strings.Split(out, "\n") {
		name, f, _ := dpkgLine(line)
		if name != "" && len(f) == 3 && f[2] == "config-files" {
			set[name] = true
		}
	}
	return set
}

// ParseInstalled reads dpkg-query lines of name, tab, status (and tab,
// version): the names whose status is installed (or awaiting triggers).
func ParseInstalled(out string) map[string]bool {
	set := make(map[string]bool)
	for n := range parseVersions(out) {
		set[n] = true
	}
	return set
}

// parseVersions is ParseInstalled with each name's version ("" when the
// lines have none).
func parseVersions(out string) map[string]string {
	vers := make(map[string]string)
	for _, line := range strings.Split(out, "\n") {
		name, f, version := dpkgLine(line)
		if name == "" || len(f) != 3 {
			continue
		}
		switch f[2] {
		case "installed", "triggers-awaited", "triggers-pending":
			vers[name] = version
		}
	}
	return vers
}

// aptSim is what apt-get -s says a call would do.
type aptSim struct {
	fresh   []string  // packages it would install that are not installed now
	removed []string  // packages it would remove or purge
	inst    []simInst // packages it would install or change, with the version they take
}

// simulate runs apt-get -s with args.
func (t Tools) simulate(args ...string) (aptSim, error) {
	out, err := t.Apt("apt-get", append([]string{"-s", "-q"}, args...)...)
	if err != nil {
		return aptSim{}, err
	}
	return parseSim(out), nil
}

// parseSim reads apt-get -s output: "Inst NAME (VERSION ...)" installs a
// package that is absent, "Inst NAME [OLD] (VERSION ...)" changes one that
// is there, "Remv NAME [VERSION]" and "Purg NAME [VERSION]" remove one. A
// version that is not one leaves the Inst's version "".
func parseSim(out string) aptSim {
	var s aptSim
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || !validPkgName(f[1]) {
			continue
		}
		switch f[0] {
		case "Inst":
			in := simInst{name: f[1], fresh: len(f) < 3 || !strings.HasPrefix(f[2], "[")}
			if in.fresh {
				s.fresh = append(s.fresh, f[1])
			} else if old := strings.TrimSuffix(f[2][1:], "]"); validVersion(old) {
				in.old = old
			}
			at := 2 // the "(VERSION" word, after "[OLD]" for a change
			if !in.fresh {
				at = 3
			}
			if len(f) > at && strings.HasPrefix(f[at], "(") && validVersion(f[at][1:]) {
				in.version = f[at][1:]
			}
			s.inst = append(s.inst, in)
		case "Remv", "Purg":
			s.removed = append(s.removed, f[1])
		}
	}
	return s
}

// validVersion reports whether v can be a Debian version: it starts with a
// digit and holds only letters, digits and ".+~:-", so that "name=v" is
// one argument apt reads as a version.
func validVersion(v string) bool {
	if v == "" || v[0] < '0' || v[0] > '9' {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(".+~:-", c) >= 0) {
			return false
		}
	}
	return true
}

// closure returns the installed packages name needs, directly or not
// (Depends and Pre-Depends, and Recommends when recommends is set).
func (t Tools) closure(name string, recommends bool) ([]string, error) {
	args := []string{"depends", "--recurse", "--installed", "--no-suggests", "--no-conflicts",
		"--no-breaks", "--no-replaces", "--no-enhances"}
	if !recommends {
		args = append(args, "--no-recommends")
	}
	out, err := t.Apt("apt-cache", append(args, name)...)
	if err != nil {
		return nil, err
	}
	return parseClosure(out), nil
}

// closures returns closure's answer for each of names, from one apt-cache
// depends --recurse call for all: its output is the blocks of every
// package the recursion reaches from any of them, each block the same
// whichever name reached it, so a name's closure is the packages with a
// block that the dependency and provider lines reach from its own. A name
// without a block of its own (one apt prints otherwise) gets a call of
// its own.
func (t Tools) closures(names []string, recommends bool) (map[string][]string, error) {
	args := []string{"depends", "--recurse", "--installed", "--no-suggests", "--no-conflicts",
		"--no-breaks", "--no-replaces", "--no-enhances"}
	if !recommends {
		args = append(args, "--no-recommends")
	}
	out, err := t.Apt("apt-cache", append(args, names...)...)
	if err != nil {
		return nil, err
	}
	graph := parseDepends(out)
	got := make(map[string][]string, len(names))
	for _, n := range names {
		if _, ok := graph[n]; !ok {
			if got[n], err = t.closure(n, recommends); err != nil {
				return nil, err
			}
			continue
		}
		seen := map[string]bool{n: true}
		queue := []string{n}
		for len(queue) > 0 {
			p := queue[0]
			queue = queue[1:]
			got[n] = append(got[n], p)
			for _, alts := range graph[p] {
				for _, a := range alts {
					if _, listed := graph[a]; listed && !seen[a] {
						queue, seen[a] = append(queue, a), true
					}
				}
			}
		}
	}
	return got, nil
}

// parseClosure reads apt-cache depends --recurse output: the package names
// are the lines that are not indented (virtual ones are in angle brackets
// and left out).
func parseClosure(out string) []string {
	var names []string
	for _, line := range strings.Split(out, "\n") {
		if line == "" || line[0] == ' ' || !validPkgName(line) {
			continue
		}
		names = append(names, line)
	}
	return names
}

// needers returns the installed packages that depend on name in any way
// apt's autoremove counts (Depends, Pre-Depends, Recommends).
func (t Tools) needers(name string) ([]string, error) { return t.rdepends(name) }

// hardNeeders returns the installed packages that depend on name
// (Depends, Pre-Depends), leaving out those that only recommend or
// suggest it.
func (t Tools) hardNeeders(name string) ([]string, error) { return t.rdepends(name, "--no-recommends") }

// rdepends returns the installed packages that depend on name, or
// recommend it unless opts say --no-recommends; never those that only
// suggest, conflict with, break, replace or enhance it.
func (t Tools) rdepends(name string, opts ...string) ([]string, error) {
	args := append([]string{"rdepends", "--installed", "--no-suggests", "--no-conflicts",
		"--no-breaks", "--no-replaces", "--no-enhances"}, opts...)
	out, err := t.Apt("apt-cache", append(args, name)...)
	if err != nil {
		return nil, err
	}
	return parseNeeders(out), nil
}

// parseNeeders reads apt-cache rdepends output: the indented names after
// "Reverse Depends:", a leading "|" (an alternative) dropped.
func parseNeeders(out string) []string {
	var names []string
	in := false
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.TrimSpace(line) == "Reverse Depends:":
			in = true
		case in && strings.HasPrefix(line, " "):
			n := strings.TrimPrefix(strings.TrimSpace(line), "|")
			if validPkgName(n) && !slices.Contains(names, n) {
				names = append(names, n)
			}
		default:
			in = false
		}
	}
	return names
}

// validPkgName reports whether s is a Debian package name, optionally
// with ":arch": lower-case letters, digits, "+", "-" and ".", starting
// with a letter or digit (so it can never be taken for an option).
func validPkgName(s string) bool {
	name, arch, hasArch := strings.Cut(s, ":")
	if len(name) < 2 || hasArch && arch == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '+' && c != '-' && c != '.') {
			return false
		}
	}
	for i := 0; i < len(arch); i++ {
		c := arch[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// baseName is a package name without its ":arch".
func baseName(name string) string {
	b, _, _ := strings.Cut(name, ":")
	return b
}
