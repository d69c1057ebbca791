package accounts

import (
	"bytes"
	"slices"
	"strings"

	"trail/apply/kind"
)

// userDel removes a user, keeping its home. When keepGroup is set and
// userdel removed the group of the user's name, it is put back with its
// gid and its other members; when it is not set, that group is trail's
// (useradd made it) and goes too, as userdel leaves it without
// USERGROUPS_ENAB — unless it is still another user's primary group.
func userDel(x *kind.Exec, name string, keepGroup bool) error {
	g, err := readGroup(x, name)
	if err != nil {
		return err
	}
	placed, err := placeOf(x, name, name)
	if err != nil {
		return err
	}
	if err := ShadowTool(x, "userdel", name); err != nil {
		return err
	}
	if g.IsAbsent() {
		return nil
	}
	now, err := readGroup(x, name)
	if err != nil {
		return err
	}
	if !keepGroup {
		if now.IsAbsent() {
			return nil
		}
		if user, err := primaryOf(kind.NewView(x), now.Value("gid")); err != nil || user != "" {
			return err
		}
		return ShadowTool(x, "groupdel", name)
	}
	if !now.IsAbsent() {
		return nil
	}
	members := slices.DeleteFunc(kind.SplitNames(g.Value("members")), func(m string) bool { return m == name })
	args := []string{"-g", g.Value("gid")}
	if len(members) > 0 {
		args = append(args, "-U", strings.Join(members, ","))
	}
	if err := ShadowTool(x, "groupadd", append(args, name)...); err != nil {
		return err
	}
	return editAccounts(x, func(f string, data []byte) []byte { return placed.put(f, data) })
}

// groupPlace is where a group's lines stood in /etc/group and
// /etc/gshadow, and what they held, so that a group the tools had to
// delete and add again (which appends it) is put back as it was.
type groupPlace struct {
	name, member string
	lines        map[string][]byte // by file: the line, without the member
	at           map[string]int    // by file: its index among the lines
}

// placeOf notes group name's lines in x's group files, as they will be
// once member is gone from them.
func placeOf(x *kind.Exec, name, member string) (*groupPlace, error) {
	p := &groupPlace{name: name, member: member, lines: map[string][]byte{}, at: map[string]int{}}
	for _, f := range []string{"/etc/group", "/etc/gshadow"} {
		data, err := accountData(x, f)
		if err != nil {
			return nil, err
		}
		for i, l := range bytes.SplitAfter(data, []byte("\n")) {
			if bytes.HasPrefix(l, []byte(name+":")) {
				p.lines[f], p.at[f] = withoutMember(l, member), i
				break
			}
		}
	}
	return p, nil
}

// withoutMember returns group or gshadow line l without member in its
// member list (the last field of both).
func withoutMember(l []byte, member string) []byte {
	text, nl := strings.CutSuffix(string(l), "\n")
	f := strings.Split(text, ":")
	last := len(f) - 1
	f[last] = strings.Join(slices.DeleteFunc(kind.SplitNames(f[last]), func(m string) bool { return m == member }), ",")
	out := strings.Join(f, ":")
	if nl {
		out += "\n"
	}
	return []byte(out)
}

// put returns data of file f with the group's line back at its place;
// nil when it is there already or the file did not hold it.
func (p *groupPlace) put(f string, data []byte) []byte {
	line, ok := p.lines[f]
	if !ok || len(data) == 0 || data[len(data)-1] != '\n' || !bytes.HasSuffix(line, []byte("\n")) {
		return nil
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	lines = lines[:len(lines)-1] // the empty remainder after the last newline
	cur := slices.IndexFunc(lines, func(l []byte) bool { return bytes.HasPrefix(l, []byte(p.name+":")) })
	if cur == p.at[f] && bytes.Equal(lines[cur], line) {
		return nil
	}
	if cur >= 0 {
		lines = slices.Delete(lines, cur, cur+1)
	}
	lines = slices.Insert(lines, min(p.at[f], len(lines)), line)
	return bytes.Join(lines, nil)
}
