package packages

import (
	"fmt"
	"slices"
	"strings"

	"trail/apply/kind"
	"trail/stepfmt"
)

// The accounts and enablement links an install's maintainer scripts make
// are known only once apt-get returns (brought.go). An apply killed
// while apt runs, or an install that fails half way, would leave them: so
// the journaled undo image of a PKG change that installs also holds the
// root's account names and enablement links as they were before the call
// (had-users=, had-groups=, had-links=, the names themselves: a few
// hundred bytes on a plain Debian host, and a hash could not tell which
// appeared). The undo then removes what is there now and was not then,
// as the reverse removes users=, groups= and links=; nothing that existed
// before the intent is touched. Undo runs newest first, so whatever later
// changes of the apply made is gone by then. The amend after a finished
// call replaces the lists by the exact users=, groups= and links=
// (WithBrought), and the target's origin never holds them.

// UndoImage of a PKG change that installs is its pre-image with the
// machine's marks as they are before apt-get runs.
func (Package) UndoImage(x *kind.Exec, c stepfmt.Change, pre kind.Image, rec *kind.Record) (kind.Image, error) {
	if c.Op == stepfmt.OpRemove || c.Step.Absent() {
		return pre, nil
	}
	p, err := Unpack(pre)
	if err != nil {
		return kind.Image{}, err
	}
	if pin := c.Step.Value("version"); p.State == Installed && (pin == "" || pin == p.Version) {
		return pre, nil
	}
	had, err := ReadMarks(pkgToolsOf(x))
	if err != nil {
		return kind.Image{}, fmt.Errorf("reading the accounts and enablement links before the install: %w", err)
	}
	p.had = &had
	return p.Image(), nil
}

// hadAttrs renders the marks as the image's had- attributes, leaving out
// a name no list can hold (it can then never be found made since).
func hadAttrs(m *machineMarks) []stepfmt.Attr {
	list := func(set map[string]bool, ok func(string) bool) string {
		var names []string
		for n := range set {
			if ok(n) {
				names = append(names, n)
			}
		}
		return kind.JoinNames(names)
	}
	return []stepfmt.Attr{{Key: "had-users", Value: list(m.users, listableAccount)},
		{Key: "had-groups", Value: list(m.groups, listableAccount)}, {Key: "had-links", Value: list(m.Links, listableLink)}}
}

// listableAccount and listableLink report whether one name can stand in
// a comma list.
func listableAccount(n string) bool {
	_, err := canonAccounts(n)
	return err == nil && n != "" && !strings.Contains(n, ",")
}

func listableLink(p string) bool {
	_, err := canonLinks(p)
	return err == nil && p != "" && !strings.Contains(p, ",")
}

// setHad reads one had- attribute into p.
func (p *pimgPkg) setHad(key, value string) error {
	if p.had == nil {
		p.had = &machineMarks{users: map[string]bool{}, groups: map[string]bool{}, Links: map[string]bool{}}
	}
	canon, set := canonAccounts, p.had.users
	switch key {
	case "had-groups":
		set = p.had.groups
	case "had-links":
		canon, set = canonLinks, p.had.Links
	}
	list, err := canon(value)
	if err != nil {
		return err
	}
	for _, n := range kind.SplitNames(list) {
		set[n] = true
	}
	return nil
}

// withMadeSince returns orig with what the machine holds now and did not
// hold before the install (orig.had) added to its users, groups and links.
func withMadeSince(t Tools, orig pimgPkg) (pimgPkg, error) {
	now, err := ReadMarks(t)
	if err != nil {
		return orig, err
	}
	made := slices.DeleteFunc(now.Since(*orig.had), func(m string) bool {
		kind, name, _ := strings.Cut(m, ":")
		if kind == "link" {
			return !listableLink(name)
		}
		return !listableAccount(name)
	})
	b := broughtParts(made)
	orig.users = kind.JoinNames(append(kind.SplitNames(orig.users), b.users...))
	orig.groups = kind.JoinNames(append(kind.SplitNames(orig.groups), b.groups...))
	orig.Links = kind.JoinNames(append(kind.SplitNames(orig.Links), b.links...))
	return orig, nil
}
