package accounts

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"trail/apply/kind"
	"trail/stepfmt"
)

// A run of users the reverse removes is removed by trail itself, as
// userdel removes them (shadow 4.13, without -r: the home and the mail
// spool stay): the passwd and shadow entries go, the user leaves every
// group's member list and every gshadow admin list, and with
// USERGROUPS_ENAB the group of the user's name goes when it is the
// user's primary group, has no other member and is no other user's
// primary group; then, as userDel decides, a group the user's step did
// not create is put back at its place, and one it did that is still there
// goes unless another user's primary group. What userdel would refuse or
// does beyond the four files is left to it (but for the user's ranges in
// /etc/subuid and /etc/subgid, removed too): a user with processes on the
// running system, a USERDEL_CMD, tcb shadow, the
// shadow-maint hook directories, duplicate entries.

// nativeDelDefs reports whether the root's setup is one the fast path
// removes users in as userdel does.
func nativeDelDefs(x *kind.Exec, d *toolDefs) bool {
	if d.yes("USE_TCB") || d.login["USERDEL_CMD"] != "" {
		return false
	}
	for _, p := range []string{"/etc/shadow-maint/userdel-pre.d", "/etc/shadow-maint/userdel-post.d"} {
		if _, err := x.Root.Lstat(p); err == nil {
			return false
		}
	}
	return true
}

// RestoreGroup makes consecutive reverses of USER steps
// (kind.RestoreGrouper): each run of users to remove trail removes
// itself, every other reverse runs with the tools, then the account
// files are put in the order of the list once.
func (User) RestoreGroup(x *kind.Exec, steps []*stepfmt.Step, imgs []kind.Image, works []kind.Work) error {
	run := &nativeRun{x: x, tool: doUserdel}
	for k, s := range steps {
		img := imgs[k]
		if img.State != stAccounts && img.IsAbsent() {
			keep := img.Value("group-kept") == "true" || x.Planned("group:"+s.Target)
			done, err := run.try(func(n *native) (bool, error) { return n.removeUser(s.Target, keep), nil })
			if err != nil {
				return &kind.StepFailed{Step: s, Err: err}
			}
			if done {
				continue
			}
		}
		if err := run.commit(); err != nil {
			return err
		}
		var err error
		if img.State == stAccounts {
			err = restoreAccounts(x, img)
		} else {
			err = restoreUser(x, s, img, works[k])
		}
		if err != nil {
			return &kind.StepFailed{Step: s, Err: err}
		}
	}
	if err := run.commit(); err != nil {
		return err
	}
	return putInOrder(x)
}

// removeUser removes user name as userDel does with userdel, keeping the
// group of its name when keepGroup; false (nothing changed) when it is
// left to userdel.
func (n *native) removeUser(name string, keepGroup bool) bool {
	pw, sh, gr, gs := n.files["/etc/passwd"], n.files["/etc/shadow"], n.files["/etc/group"], n.files["/etc/gshadow"]
	pi, ok := pw.first[name]
	if !ok || pw.dups[name] || sh.dups[name] || gr.dups[name] || gs.dups[name] {
		return false
	}
	f := strings.Split(pw.lines[pi], ":")
	if len(f) != 7 || n.busy(f[2]) {
		return false
	}
	var subs []*subFile
	for _, file := range subFiles {
		if _, err := n.x.Root.Lstat(file); err != nil {
			continue
		}
		sf, err := n.sub(file)
		if err != nil || sf == nil {
			return false
		}
		subs = append(subs, sf)
	}
	for _, nf := range []*nfile{gr, gs} {
		for _, i := range nf.memberLines(name) {
			g := strings.Split(nf.lines[i], ":")
			if len(g) != 4 || nf.dups[g[0]] {
				return false
			}
		}
	}
	gi, hadGroup := gr.first[name]
	si, hadShadow := gs.first[name]
	var gline, sline string
	if hadGroup {
		if gline = gr.lines[gi]; strings.Count(gline, ":") != 3 || !hadShadow && keepGroup {
			return false
		}
		if hadShadow {
			sline = gs.lines[si]
		}
	}

	// userdel: the entries, the subordinate ids, the memberships, the group
	// of the name
	pw.kill(pi)
	for _, sf := range subs {
		sf.removeOwner(name)
	}
	if i, ok := sh.first[name]; ok {
		sh.kill(i)
	}
	for _, i := range gr.memberLines(name) {
		gr.set(i, withoutIn(gr.lines[i], name, 3))
	}
	removed := false
	if hadGroup && n.defs.yes("USERGROUPS_ENAB") {
		g := strings.Split(gr.lines[gi], ":")
		if g[2] == f[3] && g[3] == "" && pw.primaries(g[2]) == 0 {
			gr.kill(gi)
			if hadShadow {
				gs.kill(si)
			}
			removed = true
		}
	}
	for _, i := range gs.memberLines(name) {
		if gs.lines[i] != gone {
			gs.set(i, withoutIn(withoutIn(gs.lines[i], name, 3), name, 2))
		}
	}
	if !hadGroup {
		return true
	}
	// userDel: the group of the name kept or removed
	switch {
	case keepGroup && removed:
		gr.revive(gi, strings.TrimSuffix(string(withoutMember([]byte(gline), name)), "\n"))
		gs.revive(si, strings.TrimSuffix(string(withoutMember([]byte(sline), name)), "\n"))
	case !keepGroup && !removed:
		if pw.primaries(kind.FieldAt(strings.Split(gr.lines[gi], ":"), 2)) == 0 {
			gr.kill(gi)
			if hadShadow {
				gs.kill(si)
			}
		}
	}
	return true
}

// withoutIn returns line l without name in its field i (a comma list).
func withoutIn(l, name string, i int) string {
	f := strings.Split(l, ":")
	if i >= len(f) {
		return l
	}
	f[i] = strings.Join(slices.DeleteFunc(kind.SplitNames(f[i]), func(m string) bool { return m == name }), ",")
	return strings.Join(f, ":")
}

// kill removes line i.
func (nf *nfile) kill(i int) {
	f := strings.SplitN(nf.lines[i], ":", 5)
	if nf.first[f[0]] == i {
		delete(nf.first, f[0])
	}
	if len(f) > 2 {
		if id, err := strconv.ParseUint(f[2], 10, 32); err == nil && nf.ids[id] > 0 {
			nf.ids[id]--
			nf.spans = nil
		}
	}
	if nf.primary != nil && len(f) > 3 {
		nf.primary[f[3]]--
	}
	nf.lines[i], nf.changed = gone, true
}

// revive puts back removed line i as l.
func (nf *nfile) revive(i int, l string) {
	nf.lines[i] = l
	nf.note(i, l)
}

// memberLines returns the lines that list user as a member (or, in
// gshadow, as an administrator).
func (nf *nfile) memberLines(user string) []int {
	if nf.members == nil {
		nf.members = map[string][]int{}
		for i, l := range nf.lines {
			for _, m := range memberFields(strings.Split(l, ":")) {
				if ls := nf.members[m]; len(ls) == 0 || ls[len(ls)-1] != i {
					nf.members[m] = append(ls, i)
				}
			}
		}
	}
	var out []int
	for _, i := range nf.members[user] {
		if nf.lines[i] != gone && slices.Contains(memberFields(strings.Split(nf.lines[i], ":")), user) {
			out = append(out, i)
		}
	}
	return out
}

// memberFields are the names a group or gshadow entry lists: the last
// field, and gshadow's administrators before it.
func memberFields(f []string) []string {
	if len(f) < 4 {
		return nil
	}
	return append(kind.SplitNames(f[3]), kind.SplitNames(f[2])...)
}

// primaries counts the passwd entries whose primary gid is gid.
func (nf *nfile) primaries(gid string) int {
	if nf.primary == nil {
		nf.primary = map[string]int{}
		for _, l := range nf.lines {
			if f := strings.SplitN(l, ":", 5); l != gone && len(f) > 3 {
				nf.primary[f[3]]++
			}
		}
	}
	return nf.primary[gid]
}

// busy reports whether a process of the running system runs as uid
// (real, effective or saved), which userdel refuses on the root "/".
func (n *native) busy(uid string) bool {
	if n.x.Root.Dir() != "/" {
		return false
	}
	if n.procUIDs == nil {
		n.procUIDs = map[string]bool{}
		ents, _ := os.ReadDir("/proc")
		for _, e := range ents {
			if _, err := strconv.Atoi(e.Name()); err != nil {
				continue
			}
			data, err := os.ReadFile(filepath.Join("/proc", e.Name(), "status"))
			if err != nil {
				continue
			}
			sc := bufio.NewScanner(bytes.NewReader(data))
			for sc.Scan() {
				if rest, ok := strings.CutPrefix(sc.Text(), "Uid:"); ok {
					for _, u := range strings.Fields(rest)[:min(3, len(strings.Fields(rest)))] {
						n.procUIDs[u] = true
					}
				}
			}
		}
	}
	return n.procUIDs[uid]
}
