package accounts

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"trail/apply/kind"
	"trail/stepfmt"
)

// validName is the user names the fast path takes: useradd's strict
// rule, which every Debian release accepts.
func validName(name string) bool {
	if name == "" || len(name) > 32 {
		return false
	}
	for i, c := range name {
		switch {
		case c >= 'a' && c <= 'z', c == '_':
		case i > 0 && (c >= '0' && c <= '9' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// groupByName resolves a group as useradd -g and -G do: a name, or a
// number some group holds; it returns the group's name and gid.
func (n *native) groupByName(g string) (string, uint64, bool) {
	gr := n.files["/etc/group"]
	if f := gr.fields(g); len(f) > 2 {
		id, err := strconv.ParseUint(f[2], 10, 32)
		return f[0], id, err == nil
	}
	id, err := strconv.ParseUint(g, 10, 32)
	if err != nil || gr.ids[id] == 0 {
		return "", 0, false
	}
	for _, l := range gr.lines {
		if f := strings.Split(l, ":"); len(f) > 2 && f[2] == g {
			return f[0], id, true
		}
	}
	return "", 0, false
}

// addUser writes new user s as useradd with useraddArgs(s) would; false
// (nothing written) when the fast path leaves s to useradd.
func (n *native) addUser(s *stepfmt.Step) (bool, error) {
	name := s.Target
	pw, sh, gr, gs := n.files["/etc/passwd"], n.files["/etc/shadow"], n.files["/etc/group"], n.files["/etc/gshadow"]
	system := s.Value("system") == "true"
	if !validName(name) || pw.fields(name) != nil {
		return false, nil
	}
	if !system && strings.EqualFold(n.defs.dflt["CREATE_MAIL_SPOOL"], "yes") {
		return false, nil
	}
	home, ok := s.Get("home")
	if !ok {
		base := n.defs.dflt["HOME"]
		if _, set := n.defs.dflt["HOME"]; !set {
			base = "/home"
		}
		home = base + "/" + name
	}
	if !path.IsAbs(home) || path.Clean(home) != home {
		return false, nil
	}
	shell, ok := s.Get("shell")
	if !ok {
		shell = "/bin/bash"
		if v, set := n.defs.dflt["SHELL"]; set {
			shell = v
		}
	}
	if shell != "" && shell[0] != '/' && shell[0] != '*' {
		return false, nil
	}
	pass := "!"
	if p, ok := s.Get("password"); ok {
		pass = p
	}
	var gid uint64
	own := false
	if g, ok := s.Get("group"); ok {
		var found bool
		if _, gid, found = n.groupByName(g); !found {
			return false, nil
		}
	} else if f := gr.fields(name); f != nil {
		id, err := strconv.ParseUint(kind.FieldAt(f, 2), 10, 32)
		if err != nil {
			return false, nil
		}
		gid = id
	} else {
		own = true
	}
	var supp []string
	for _, g := range kind.SplitNames(s.Value("groups")) {
		gname, _, found := n.groupByName(g)
		if !found {
			return false, nil
		}
		if !slices.Contains(supp, gname) {
			supp = append(supp, gname)
		}
	}
	var uid uint64
	if v, ok := s.Get("uid"); ok {
		id, err := strconv.ParseUint(v, 10, 32)
		if err != nil || pw.ids[id] > 0 {
			return false, nil
		}
		uid = id
	}
	_, hasUID := s.Get("uid")
	fu, fg, uok, gok := n.fresh.ids(name, system, hasUID, uid, own)
	switch {
	case hasUID:
	case uok:
		uid = fu
	default:
		var ok bool
		if uid, ok = newID(n.defs, "UID", pw.idSet(), system, nil); !ok {
			return false, nil
		}
	}
	if own && gok {
		gid = fg
	} else if own {
		var ok bool
		if gid, ok = newID(n.defs, "GID", gr.idSet(), system, &uid); !ok {
			return false, nil
		}
	}
	if !n.logsKnown(uid) {
		return false, nil
	}
	// useradd gives subordinate ids to a user that is not a system user
	// and whose -u, if any (trail passes a fresh uid as one), is in range.
	uidGiven := hasUID || uok
	var subs []subGrant
	for _, k := range []string{"UID", "GID"} {
		if system || !n.subIDs(k, subFileOf[k]) {
			continue
		}
		lo, hi := n.defs.unum("UID_MIN", 1000), n.defs.unum("UID_MAX", 60000)
		if uidGiven && uid != 0 && (uid < lo || uid > hi) {
			continue
		}
		sf, err := n.sub(subFileOf[k])
		if err != nil || sf == nil {
			return false, err
		}
		start, ok := sf.free(n.defs, k)
		if !ok {
			return false, nil
		}
		subs = append(subs, subGrant{sf, start, n.defs.unum("SUB_"+k+"_COUNT", 65536)})
	}
	var tree *skelTree
	if makesHome(s) {
		var err error
		if tree, err = n.skelTree(); err != nil || tree == nil {
			return false, err
		}
		if _, err := n.x.Root.Lstat(home); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return false, nil // a symlink on the way, which useradd --root follows inside the root
		}
	}
	for _, f := range []*nfile{gr, gs} {
		for _, g := range supp {
			if f.dups[g] || f.fields(g) != nil && !f.canAddMember(g) {
				return false, nil
			}
		}
	}

	if own {
		gr.add(fmt.Sprintf("%s:x:%d:", name, gid))
		gs.add(name + ":!::")
	}
	if err := n.resetLogs(uid); err != nil {
		return true, err
	}
	pw.add(fmt.Sprintf("%s:x:%d:%d:%s:%s:%s", name, uid, gid, s.Value("comment"), home, shell))
	sh.add(strings.Join(append([]string{name, pass, n.today}, n.ages(system)...), ":"))
	for _, g := range supp {
		gr.addMember(g, name)
		if gr.fields(g) != nil && gs.fields(g) != nil {
			gs.addMember(g, name)
		}
	}
	for _, g := range subs {
		g.f.add(name, g.start, g.count)
	}
	if tree != nil {
		if err := n.makeHome(home, uint32(uid), uint32(gid), tree); err != nil {
			return true, fmt.Errorf("creating home %s: %w", home, err)
		}
	}
	n.fresh.created(name, own)
	return true, nil
}

// canAddMember reports whether group name's entry has the four fields
// addMember rewrites.
func (nf *nfile) canAddMember(name string) bool {
	i, ok := nf.first[name]
	return !ok || strings.Count(nf.lines[i], ":") == 3
}

// ages are the shadow fields after the day of the last change: login.defs'
// minimum, maximum and warning ages for a user that is not a system user,
// and no inactivity, expiry or flag.
func (n *native) ages(system bool) []string {
	show := func(v int64) string {
		if v == -1 {
			return ""
		}
		return strconv.FormatInt(v, 10)
	}
	if system {
		return []string{"", "", "", "", "", ""}
	}
	return []string{show(n.defs.num("PASS_MIN_DAYS", -1)), show(n.defs.num("PASS_MAX_DAYS", -1)), show(n.defs.num("PASS_WARN_AGE", -1)), "", "", ""}
}
