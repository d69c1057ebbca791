package packages

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"trail/apply/kind"
	"trail/apply/kinds/paths"
	"trail/stepfmt"
)

// The accounts and enablement links a dependency's maintainer scripts
// make (D's postinst: adduser --system d, deb-systemd-helper enable
// d.service) are D's, not those of the package whose install brought D:
// while D stays installed after that package goes (another one needs it)
// they must stay, and they go when D goes. So an install names the
// maker of each mark among the packages of its call, those it installed
// and those it upgraded (whose dpkg file list it rewrote: relisted), so
// that a mark a package installed before trail made stays while that
// package does (markMakers):
//
//   - a link: the package that ships the unit it points to (linkOwner);
//   - else those whose preinst, postinst or sysusers.d files make it: a
//     line naming it as a word with an account tool or file, or a
//     sysusers.d entry (an enable or ln for a unit; makesWord);
//   - else those whose scripts or sysusers.d files name it as a word
//     (the account; the unit's file name for a link);
//   - else those that have a preinst or postinst at all.
//
// A mark the step's package made, or whose maker cannot be told, is the
// step's own (users=, groups=, links=); one a dependency made is named
// with it in depmarks= ("D:user:NAME", "D:group:NAME", "D:link:PATH"),
// and again by a later install that finds D installed and needs it, with
// D itself (sharedDeps). A removal takes a mark when every claim on it is
// gone (planMarks): each package that owns it goes, each dependency that
// made it is absent once the removal has run, and no package the plan
// keeps owns it. One a record names as its own and as a dependency's
// (both their scripts name it) follows the dependency.

// canonDepMarks checks a comma list of "DEP:KIND:NAME" and returns it
// sorted and without duplicates.
func canonDepMarks(list string) (string, error) {
	items := kind.SplitNames(list)
	for _, it := range items {
		dep, mark, _ := strings.Cut(it, ":")
		if !validPkgName(dep) || strings.Contains(dep, ":") {
			return "", fmt.Errorf("%q: %q is not a package name", it, dep)
		}
		k, name, _ := strings.Cut(mark, ":")
		var err error
		switch k {
		case "user", "group":
			if name == "" {
				err = fmt.Errorf("%q is not an account name", name)
			} else {
				_, err = canonAccounts(name)
			}
		case "link":
			err = stepfmt.CheckPath(name)
		default:
			err = fmt.Errorf("the kind must be user, group or link")
		}
		if err != nil {
			return "", fmt.Errorf("%q: %w", it, err)
		}
	}
	return kind.JoinNames(items), nil
}

// AttributeMarks shares out what maintainer scripts made during one call
// (made, prefixed as in brought.go) among its steps, per[i] being the
// dependencies the call brought for step i and upgraded those installed
// before it that it upgraded or reinstalled: a mark step i's package
// made is its own, one a dependency of per[i] made is "by:DEP:MARK",
// one an upgraded package made is "by:PKG:MARK" of every step (it stays
// while that package does), and one whose maker is none of the call's
// packages is every step's own.
func AttributeMarks(t Tools, steps []*stepfmt.Step, per [][]string, upgraded, made []string) [][]string {
	out := make([][]string, len(steps))
	if len(made) == 0 {
		return out
	}
	pkgs := slices.Clone(upgraded)
	for i, s := range steps {
		pkgs = append(append(pkgs, s.Target), per[i]...)
	}
	slices.Sort(pkgs)
	pkgs = slices.Compact(pkgs)
	texts := map[string]scriptText{}
	for _, m := range made {
		makers := t.markMakers(m, pkgs, texts)
		given := false
		for i, s := range steps {
			if hasName(makers, s.Target) {
				out[i], given = append(out[i], m), true
			}
			for _, d := range per[i] {
				if hasName(makers, d) {
					out[i], given = append(out[i], "by:"+baseName(d)+":"+m), true
				}
			}
		}
		for _, u := range upgraded {
			if hasName(makers, u) {
				for i := range steps {
					out[i] = append(out[i], "by:"+baseName(u)+":"+m)
				}
				given = true
			}
		}
		if !given {
			for i := range steps {
				out[i] = append(out[i], m)
			}
		}
	}
	return out
}

// scriptText is what a package's maintainer scripts and sysusers.d
// files say, and whether it has a preinst or postinst.
type scriptText struct {
	text     string
	scripted bool
}

// markMakers returns the packages of pkgs that made mark, or none when
// it cannot be told; texts caches what the packages' scripts say.
func (t Tools) markMakers(mark string, pkgs []string, texts map[string]scriptText) []string {
	k, word, _ := strings.Cut(mark, ":")
	if k == "link" {
		if owner := t.linkOwner(word); owner != "" && hasName(pkgs, owner) {
			return []string{owner}
		}
		word = path.Base(word)
	}
	var makers, named, scripted []string
	for _, p := range pkgs {
		st, ok := texts[p]
		if !ok {
			st = t.scripts(p)
			texts[p] = st
		}
		if st.scripted {
			scripted = append(scripted, p)
		}
		if namesWord(st.text, word) {
			named = append(named, p)
			if makesWord(st.text, k, word) {
				makers = append(makers, p)
			}
		}
	}
	if len(makers) > 0 {
		return makers
	}
	if len(named) > 0 {
		return named
	}
	return scripted
}

// scripts reads the preinst and postinst of an installed package and the
// sysusers.d files it ships, under any architecture qualifier.
func (t Tools) scripts(pkg string) scriptText {
	info := t.host("/var/lib/dpkg/info")
	var st scriptText
	var b strings.Builder
	for _, stem := range []string{baseName(pkg), baseName(pkg) + ":*"} {
		for _, ext := range []string{"preinst", "postinst"} {
			files, _ := filepath.Glob(filepath.Join(info, stem+"."+ext))
			for _, f := range files {
				if data, err := os.ReadFile(f); err == nil {
					st.scripted = true
					b.Write(data)
					b.WriteByte('\n')
				}
			}
		}
		lists, _ := filepath.Glob(filepath.Join(info, stem+".list"))
		for _, l := range lists {
			data, err := os.ReadFile(l)
			if err != nil {
				continue
			}
			for _, p := range strings.Split(string(data), "\n") {
				if strings.HasSuffix(p, ".conf") && (strings.HasPrefix(p, "/usr/lib/sysusers.d/") || strings.HasPrefix(p, "/lib/sysusers.d/")) {
					if conf, err := os.ReadFile(t.host(p)); err == nil {
						b.Write(conf)
						b.WriteByte('\n')
					}
				}
			}
		}
	}
	st.text = b.String()
	return st
}

// namesWord reports whether text holds word with no name character
// (letter, digit, - _ . + @) right before or after it.
func namesWord(text, word string) bool {
	if word == "" {
		return false
	}
	for i := 0; ; {
		j := strings.Index(text[i:], word)
		if j < 0 {
			return false
		}
		at, end := i+j, i+j+len(word)
		if (at == 0 || !isNameByte(text[at-1])) && (end == len(text) || !isNameByte(text[end])) {
			return true
		}
		i = at + 1
	}
}

// makesWord reports whether a line of text names word where it makes
// it, not only uses it (a package handing its files to its dependency's
// user, or making /var/www, names that user or word too): for an
// account, a line with an account tool or file (adduser, useradd,
// addgroup, groupadd, /etc/passwd, /etc/group) or a sysusers.d "u",
// "u!" or "g" line of that name; for a link, a line that enables the
// unit or links it (enable, ln). A line a backslash continues goes on
// in the next.
func makesWord(text, k, word string) bool {
	tools := []string{"adduser", "useradd", "addgroup", "groupadd", "/etc/passwd", "/etc/group"}
	if k == "link" {
		tools = []string{"enable", "ln"}
	}
	for _, line := range strings.Split(strings.ReplaceAll(text, "\\\n", " "), "\n") {
		if !namesWord(line, word) {
			continue
		}
		if f := strings.Fields(line); len(f) >= 2 && (f[0] == "u" || f[0] == "u!" || f[0] == "g") && f[1] == word && k != "link" {
			return true
		}
		if slices.ContainsFunc(tools, func(tool string) bool { return namesWord(line, tool) }) {
			return true
		}
	}
	return false
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.+@", c) >= 0
}

// planMarks adds to the works of a decision's moves the removal of the
// accounts and links they claim that are still there and whose every
// claim is gone: a move's own marks (with, for the undo of an install,
// what the machine holds now and did not before it) when its package
// goes, is gone, or is put back at its old version, its depmarks when their dependency is absent once the decision
// has run (gone: the dependencies it removes); a mark a kept package
// owns (keep), or that a dependency which stays made, stays.
func planMarks(v *kind.View, t Tools, moves []*pkgMove, gone []string, keep map[string]bool) error {
	going := map[string]bool{}
	for _, d := range gone {
		going[baseName(d)] = true
	}
	for _, m := range moves {
		if m.verb != "" {
			going[baseName(m.g.step.Target)] = true
		}
	}
	// A view predicts only while planning: the decision's own removals
	// are in going, the view says what was absent before.
	absent := func(d string) bool {
		if going[baseName(d)] {
			return true
		}
		p, err := pkgView(v, d)
		return err == nil && p.State != Installed
	}
	stays := map[string]bool{}
	for k := range keep {
		if rest, ok := strings.CutPrefix(k, "by:"); ok {
			d, mark, _ := strings.Cut(rest, ":")
			if !absent(d) {
				stays[mark] = true
			}
		} else if isMark(k) {
			stays[k] = true
		}
	}
	claimed := make([][]string, len(moves))
	for i, m := range moves {
		// Its own marks stay only with the package staying as it is now:
		// put back at the version from before trail, or gone already,
		// it had none of them then.
		orig, ownGoes := m.orig, m.verb != "" || m.ref != "" || m.cur.State != Installed
		if m.orig.had != nil && ownGoes {
			var err error
			if orig, err = withMadeSince(t, m.orig); err != nil {
				return err
			}
		}
		// A mark the record names as a dependency's too (its scripts and
		// the dependency's both name it, as a package handing its files
		// to its dependency's user does) follows that dependency: it does
		// not stay for a package that stays, put back at its old version.
		depMade := map[string]bool{}
		for _, dm := range kind.SplitNames(orig.depmarks) {
			_, mk, _ := strings.Cut(dm, ":")
			depMade[mk] = true
		}
		for _, mk := range ownMarks(orig) {
			if ownGoes {
				claimed[i] = append(claimed[i], mk)
			} else if !depMade[mk] {
				stays[mk] = true
			}
		}
		for _, dm := range kind.SplitNames(orig.depmarks) {
			if d, mk, _ := strings.Cut(dm, ":"); absent(d) {
				claimed[i] = append(claimed[i], mk)
			} else {
				stays[mk] = true
			}
		}
	}
	// A mark several moves claim (a dependency two going packages
	// brought made it) is removed once, by the first: the plan names
	// it once.
	said := map[string]bool{}
	for i, m := range moves {
		marks := slices.Clone(claimed[i])
		slices.SortStableFunc(marks, func(a, b string) int { return markRank(a) - markRank(b) })
		for _, mk := range marks {
			if stays[mk] || said[mk] {
				continue
			}
			said[mk] = true
			k, name, _ := strings.Cut(mk, ":")
			switch k {
			case "user":
				if accountExists(t, "/etc/passwd", name) {
					m.w.Changes = append(m.w.Changes, "remove user "+name)
				}
			case "group":
				if accountExists(t, "/etc/group", name) {
					m.w.Changes = append(m.w.Changes, "remove group "+name)
				}
			case "link":
				if p, err := paths.ViewOf(v, name); err == nil && p.State == paths.StLink {
					m.w.Changes = append(m.w.Changes, "remove link "+name)
					v.Predict(paths.NS, name, kind.Absent())
				}
			}
		}
	}
	return nil
}

// ownMarks lists the users, groups and links of p, prefixed.
func ownMarks(p pimgPkg) []string {
	var out []string
	for _, s := range []struct{ prefix, list string }{{"user:", p.users}, {"group:", p.groups}, {"link:", p.Links}} {
		for _, n := range kind.SplitNames(s.list) {
			out = append(out, s.prefix+n)
		}
	}
	return out
}

// isMark reports whether a keep key names an account or a link.
func isMark(k string) bool {
	return strings.HasPrefix(k, "user:") || strings.HasPrefix(k, "group:") || strings.HasPrefix(k, "link:")
}

// markRank orders removals as removeMarks makes them: users, groups, links.
func markRank(mk string) int {
	switch {
	case strings.HasPrefix(mk, "user:"):
		return 0
	case strings.HasPrefix(mk, "group:"):
		return 1
	}
	return 2
}
