package packages

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"sort"
	"strings"

	"trail/apply/internal/proc"
	"trail/apply/kind"
	"trail/apply/kinds/accounts"
	"trail/apply/kinds/paths"
	"trail/stepfmt"
)

// Besides dependencies, a package's maintainer scripts bring system users
// and groups (adduser --system) and enablement symlinks (systemctl enable,
// deb-systemd-helper) that no purge takes away. ForwardGroup compares the
// root's account files and /etc/systemd/system before and after each
// apt-get call and names what appeared with the dependencies, prefixed:
//
//	conf:NAME   a dependency that had config files left before (removed, not purged)
//	user:NAME   group:NAME   link:/etc/systemd/system/X.wants/Y
//
// What a dependency's scripts made is named as its ("by:DEP:", depmarks.go),
// and goes when that dependency goes, not with the package whose install
// brought it. WithBrought sorts them into the image's confdeps=, users=,
// groups=, links= and depmarks=; the reverse of a package that goes
// removes those still there that nothing staying claims (planMarks).

// machineMarks is the part of the machine maintainer scripts change that
// no package owns.
type machineMarks struct {
	users, groups, Links map[string]bool
}

// ReadMarks reads the root's account names and systemd enablement links.
func ReadMarks(t Tools) (machineMarks, error) {
	m := machineMarks{users: map[string]bool{}, groups: map[string]bool{}, Links: map[string]bool{}}
	for file, set := range map[string]map[string]bool{"/etc/passwd": m.users, "/etc/group": m.groups} {
		data, err := os.ReadFile(t.host(file))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return m, err
		}
		for _, name := range kind.AccountNames(data) {
			set[name] = true
		}
	}
	const sys = "/etc/systemd/system"
	top, err := os.ReadDir(t.host(sys))
	if errors.Is(err, fs.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return m, err
	}
	for _, e := range top {
		p := sys + "/" + e.Name()
		switch {
		case e.Type()&fs.ModeSymlink != 0:
			m.Links[p] = true
		case e.IsDir() && isWantsDir(e.Name()):
			sub, err := os.ReadDir(t.host(p))
			if err != nil {
				return m, err
			}
			for _, s := range sub {
				if s.Type()&fs.ModeSymlink != 0 {
					m.Links[p+"/"+s.Name()] = true
				}
			}
		}
	}
	return m, nil
}

func isWantsDir(name string) bool {
	return strings.HasSuffix(name, ".wants") || strings.HasSuffix(name, ".requires") || strings.HasSuffix(name, ".upholds")
}

// Since returns, prefixed, what is in m and was not in before.
func (m machineMarks) Since(before machineMarks) []string {
	var out []string
	for _, s := range []struct {
		prefix   string
		now, was map[string]bool
	}{{"user:", m.users, before.users}, {"group:", m.groups, before.groups}, {"link:", m.Links, before.Links}} {
		for n := range s.now {
			if !s.was[n] {
				out = append(out, s.prefix+n)
			}
		}
	}
	sort.Strings(out)
	return out
}

// broughtList is a brought list sorted by kind (broughtParts).
type broughtList struct {
	deps, conf, users, groups, links []string
	by                               []string // "DEP:user:NAME"... made by a dependency's scripts (depmarks.go)
	upgraded                         []string // "NAME=VERSION"... upgraded as dependencies (upgraded.go)
}

// broughtParts splits a brought list into dependencies, those of them
// that had config files before, accounts and links, and what a
// dependency's scripts made ("by:").
func broughtParts(brought []string) broughtList {
	var b broughtList
	for _, item := range brought {
		kind, name, ok := strings.Cut(item, ":")
		switch {
		case ok && kind == "conf":
			b.deps, b.conf = append(b.deps, name), append(b.conf, name)
		case ok && kind == "user":
			b.users = append(b.users, name)
		case ok && kind == "group":
			b.groups = append(b.groups, name)
		case ok && kind == "link":
			b.links = append(b.links, name)
		case ok && kind == "by":
			b.by = append(b.by, name)
		case ok && kind == "upgraded":
			b.upgraded = append(b.upgraded, name)
		default:
			b.deps = append(b.deps, item)
		}
	}
	return b
}

// canonAccounts checks a comma list of account names.
func canonAccounts(list string) (string, error) {
	names := kind.SplitNames(list)
	for _, n := range names {
		if n == "" || strings.ContainsAny(n, ":, \t\n") {
			return "", fmt.Errorf("%q is not an account name", n)
		}
	}
	return kind.JoinNames(names), nil
}

// canonLinks checks a comma list of absolute paths.
func canonLinks(list string) (string, error) {
	paths := kind.SplitNames(list)
	for _, p := range paths {
		if err := stepfmt.CheckPath(p); err != nil {
			return "", err
		}
	}
	return kind.JoinNames(paths), nil
}

// accountExists reports whether name is in the root's passwd (user) or
// group file.
func accountExists(t Tools, file, name string) bool {
	data, err := os.ReadFile(t.host(file))
	if err != nil {
		return false
	}
	return kind.EntryOf(data, name) != nil
}

// removeMarks removes the users, groups and links the works name, in
// that order (userdel may take a user's group with it). An account in use
// (a process still runs as it) is reported and kept, not fatal.
func removeMarks(x *kind.Exec, t Tools, works []kind.Work) error {
	var users, groups, links []string
	for _, w := range works {
		for _, c := range w.Changes {
			if u, ok := strings.CutPrefix(c, "remove user "); ok {
				users = append(users, u)
			} else if g, ok := strings.CutPrefix(c, "remove group "); ok {
				groups = append(groups, g)
			} else if l, ok := strings.CutPrefix(c, "remove link "); ok {
				links = append(links, l)
			}
		}
	}
	for _, l := range slices.Compact(slices.Sorted(slices.Values(links))) {
		if p, _ := paths.Read(x, l); p.State == paths.StLink {
			if err := x.Root.Remove(l); err != nil {
				return err
			}
		}
	}
	for _, u := range slices.Compact(slices.Sorted(slices.Values(users))) {
		if accountExists(t, "/etc/passwd", u) {
			if err := accounts.ShadowTool(x, "userdel", u); err != nil {
				x.Report(fmt.Sprintf("user %s kept: %v", u, err))
			}
		}
	}
	for _, g := range slices.Compact(slices.Sorted(slices.Values(groups))) {
		if accountExists(t, "/etc/group", g) {
			if err := accounts.ShadowTool(x, "groupdel", g); err != nil {
				x.Report(fmt.Sprintf("group %s kept: %v", g, err))
			}
		}
	}
	return nil
}

// linkOwner returns the package that ships the unit file link points to,
// or "" when dpkg knows none. On a merged /usr the file may be listed
// under /lib or /usr/lib whichever the link names.
func (t Tools) linkOwner(link string) string {
	to, err := os.Readlink(t.host(link))
	if err != nil {
		return ""
	}
	if !strings.HasPrefix(to, "/") {
		to = path.Join(path.Dir(link), to)
	}
	cands := []string{to}
	if rest, ok := strings.CutPrefix(to, "/usr/lib/"); ok {
		cands = append(cands, "/lib/"+rest)
	} else if rest, ok := strings.CutPrefix(to, "/lib/"); ok {
		cands = append(cands, "/usr/lib/"+rest)
	}
	for _, c := range cands {
		args := []string{"-S", c}
		if t.inRoot() {
			args = append([]string{"--root=" + t.Root}, args...)
		}
		out, err := proc.RunTool("dpkg-query", args...)
		if err != nil {
			continue
		}
		pkgs, _, ok := strings.Cut(strings.TrimSpace(out), ": ")
		if first, _, _ := strings.Cut(pkgs, ", "); ok && validPkgName(first) {
			return baseName(first)
		}
	}
	return ""
}
