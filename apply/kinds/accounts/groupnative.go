package accounts

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"trail/apply/kind"
	"trail/stepfmt"
)

// Runs of new groups, and of groups a reverse or an absent step removes,
// trail writes itself too, as groupadd and groupdel write them (shadow
// 4.13): a new group is "NAME:x:GID:MEMBERS" in /etc/group and
// "NAME:!::MEMBERS" in /etc/gshadow (groupadd -U, then gshadow's members
// set as membersToGshadow sets them), its gid chosen as groupadd chooses
// it; a removed group's two lines go. A member that is not a user, a gid
// in use, a group that is a user's primary group, duplicate entries and
// MAX_MEMBERS_PER_GROUP are left to the tools, which refuse or split.

// ForwardGroup makes consecutive GROUP changes (kind.Grouper): new and
// absent groups natively, changed ones with groupmod.
func (Group) ForwardGroup(x *kind.Exec, steps []*stepfmt.Step, works []kind.Work) error {
	run := &nativeRun{x: x, tool: doGroupadd}
	for k, s := range steps {
		w := works[k]
		done, err := run.try(func(n *native) (bool, error) {
			switch {
			case s.Absent():
				return n.removeGroup(s.Target), nil
			case w.Before.IsAbsent():
				return n.addGroup(s.Target, w.After, s.Value("system") == "true"), nil
			}
			return false, nil
		})
		if err != nil {
			return &kind.StepFailed{Step: s, Err: err}
		}
		if done {
			continue
		}
		if err := run.commit(); err != nil {
			return err
		}
		if s.Absent() {
			err = ShadowTool(x, "groupdel", s.Target)
		} else {
			err = groupTo(x, s.Target, w.Before, w.After, s.Value("system") == "true", false)
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

// RestoreGroup makes consecutive reverses of GROUP steps
// (kind.RestoreGrouper): groups trail created are removed natively,
// others put back with the tools.
func (Group) RestoreGroup(x *kind.Exec, steps []*stepfmt.Step, imgs []kind.Image, works []kind.Work) error {
	run := &nativeRun{x: x, tool: doGroupadd}
	for k, s := range steps {
		img := imgs[k]
		if img.State != stAccounts && img.IsAbsent() {
			done, err := run.try(func(n *native) (bool, error) { return n.removeGroup(s.Target), nil })
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
		switch {
		case img.State == stAccounts:
			err = restoreAccounts(x, img)
		case img.IsAbsent():
			err = ShadowTool(x, "groupdel", s.Target)
		default:
			err = restoreGroup(x, s.Target, works[k].Before, img)
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

// addGroup adds group name with want's gid (else one chosen as groupadd
// chooses it) and members; false when left to groupadd.
func (n *native) addGroup(name string, want kind.Image, system bool) bool {
	pw, gr, gs := n.files["/etc/passwd"], n.files["/etc/group"], n.files["/etc/gshadow"]
	if !validName(name) || gr.fields(name) != nil || gs.fields(name) != nil || gr.dups[name] || gs.dups[name] {
		return false
	}
	var gid uint64
	if v, ok := want.Get("gid"); ok {
		id, err := strconv.ParseUint(v, 10, 32)
		if err != nil || gr.ids[id] > 0 {
			return false
		}
		gid = id
	} else if id, ok := n.fresh.gidOf(name, system); ok {
		gid = id
	} else if gid, ok = newID(n.defs, "GID", gr.idSet(), system, nil); !ok {
		return false
	}
	var members []string
	for _, m := range kind.SplitNames(want.Value("members")) {
		if pw.fields(m) == nil {
			return false
		}
		if !slices.Contains(members, m) {
			members = append(members, m)
		}
	}
	ms := strings.Join(members, ",")
	gr.add(fmt.Sprintf("%s:x:%d:%s", name, gid, ms))
	gs.add(name + ":!::" + ms)
	n.fresh.createdGroup(name)
	return true
}

// removeGroup removes group name's lines as groupdel does; false when
// left to groupdel (no such group, duplicates, a user's primary group).
func (n *native) removeGroup(name string) bool {
	pw, gr, gs := n.files["/etc/passwd"], n.files["/etc/group"], n.files["/etc/gshadow"]
	gi, ok := gr.first[name]
	if !ok || gr.dups[name] || gs.dups[name] {
		return false
	}
	f := strings.Split(gr.lines[gi], ":")
	if len(f) < 3 || pw.primaries(f[2]) > 0 {
		return false
	}
	gr.kill(gi)
	if si, ok := gs.first[name]; ok {
		gs.kill(si)
	}
	return true
}
