package accounts

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"

	"trail/apply/kind"
	"trail/stepfmt"
)

// A user or group created without an id gets the one useradd or groupadd
// chooses: above every id in use. Created again while accounts the list
// creates after it are there (A, B without it, A again), it would get an
// id above theirs, not the one a fresh apply of A gives (DESIGN invariant
// 1). So when such accounts are there, trail first runs the same tool on
// a scratch copy of the account files without them (and with the root's
// login.defs and default/useradd), reads the ids it chose there — those of
// a fresh apply — and passes them to the tool on the root. An id that an
// account of the root holds already (it was created in another order) is
// left to the tool: trail never changes the id of an account that exists.

// freshIDs runs tool with args on a scratch root holding the root's
// account files without the entries the list being applied creates after
// rank, and returns the entry of name there in passwd (when it is a user)
// and group. ok is false when no such entry is in the files (the tool on
// the root then chooses as a fresh apply would) or the scratch run failed.
func freshIDs(x *kind.Exec, rank int, tool string, args []string, name string) (user, group []string, ok bool) {
	o := orderOf(x)
	if o == nil {
		return nil, nil, false
	}
	later := func(m map[string]int, n string) bool { r, ok := m[n]; return ok && r > rank }
	dir, err := os.MkdirTemp("", "trail-ids-")
	if err != nil {
		return nil, nil, false
	}
	defer os.RemoveAll(dir)
	if os.MkdirAll(filepath.Join(dir, "etc", "default"), 0o755) != nil {
		return nil, nil, false
	}
	found := false
	for _, f := range shadowFiles {
		data, err := accountData(x, f)
		if err != nil || data == nil {
			continue
		}
		ranks := o.users
		if f == "/etc/group" || f == "/etc/gshadow" {
			ranks = o.groups
		}
		var out []byte
		for l := range bytes.SplitAfterSeq(data, []byte("\n")) {
			if n, _, _ := bytes.Cut(l, []byte(":")); len(l) > 0 && later(ranks, string(n)) {
				found = true
				continue
			}
			out = append(out, l...)
		}
		if os.WriteFile(filepath.Join(dir, f), out, 0o600) != nil {
			return nil, nil, false
		}
	}
	if !found {
		return nil, nil, false
	}
	for _, f := range []string{"/etc/login.defs", "/etc/default/useradd"} {
		if data, err := x.Root.ReadFile(f); err == nil {
			if os.WriteFile(filepath.Join(dir, f), data, 0o644) != nil {
				return nil, nil, false
			}
		}
	}
	if shadowToolAt(dir, tool, args...) != nil {
		return nil, nil, false
	}
	pw, _ := os.ReadFile(filepath.Join(dir, "etc", "passwd"))
	gr, _ := os.ReadFile(filepath.Join(dir, "etc", "group"))
	return kind.EntryOf(pw, name), kind.EntryOf(gr, name), true
}

// idFree reports whether no entry of the root's account file (passwd or
// group) holds id.
func idFree(x *kind.Exec, file, id string) (bool, error) {
	c, err := loadAccounts(x, file)
	if err != nil {
		return false, err
	}
	return c.holder(id, "") == "", nil
}

// createUser runs useradd for s, with the ids a fresh apply gives when
// accounts the list creates later are in the files already: it creates
// the user's own group first with its fresh gid, then the user with its
// fresh uid in that group.
func createUser(x *kind.Exec, s *stepfmt.Step) error {
	args := useraddArgs(x, s)
	rank, ranked := orderOf(x).rankOf(userNS, s.Target)
	_, hasUID := s.Get("uid")
	if !ranked || hasUID && !slices.Contains(args, "-U") {
		return ShadowTool(x, "useradd", args...)
	}
	u, g, ok := freshIDs(x, rank, "useradd", scratchArgs(args), s.Target)
	if !ok || u == nil {
		return ShadowTool(x, "useradd", args...)
	}
	if slices.Contains(args, "-U") && g != nil {
		if free, err := idFree(x, "/etc/group", kind.FieldAt(g, 2)); err != nil {
			return err
		} else if free {
			gargs := []string{"-g", kind.FieldAt(g, 2)}
			if s.Value("system") == "true" {
				gargs = append(gargs, "-r")
			}
			if err := ShadowTool(x, "groupadd", append(gargs, s.Target)...); err != nil {
				return err
			}
			args = useraddArgs(x, s) // now in the group just made
		}
	}
	if !hasUID {
		if free, err := idFree(x, "/etc/passwd", kind.FieldAt(u, 2)); err != nil {
			return err
		} else if free {
			args = append([]string{"-u", kind.FieldAt(u, 2)}, args...)
		}
	}
	return ShadowTool(x, "useradd", args...)
}

// scratchArgs are useradd's args for the scratch run: no home, and no
// supplementary groups (they do not change the ids and may be missing
// there).
func scratchArgs(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "-G":
			i++
		case "-m":
			out = append(out, "-M")
		default:
			out = append(out, args[i])
		}
	}
	return out
}

// freshGID returns the gid a fresh apply gives group name, created with
// args (no gid among them), when groups the list creates later are in the
// files and that gid is free; "" otherwise.
func freshGID(x *kind.Exec, name string, system bool) (string, error) {
	rank, ranked := orderOf(x).rankOf(groupNS, name)
	if !ranked {
		return "", nil
	}
	args := []string{name}
	if system {
		args = []string{"-r", name}
	}
	_, g, ok := freshIDs(x, rank, "groupadd", args, name)
	if !ok || g == nil {
		return "", nil
	}
	if free, err := idFree(x, "/etc/group", kind.FieldAt(g, 2)); err != nil || !free {
		return "", err
	}
	return kind.FieldAt(g, 2), nil
}
