package accounts

import (
	"bytes"
	"slices"
	"strings"

	"trail/apply/kind"
	"trail/stepfmt"
)

// The shadow tools append a new entry to the end of its file, and a new
// member to the end of a group's list. A fresh apply therefore leaves the
// entries trail creates in the order of the step list; an account removed
// and created again (A, B without it, A again) would come back after the
// ones created since, so the files would differ from a fresh apply's
// (DESIGN invariant 1). After each USER or GROUP change, trail puts the
// lines of the entries it created, and within each group's member list
// the users whose membership it made, back in the order of the list:
// each such line or member takes one of the places such lines hold, so
// every other line stays where it is.

// acctOrder ranks the account entries the list being applied has trail
// create, by the index of the step that makes them.
type acctOrder struct {
	users  map[string]int // passwd and shadow entries trail created
	groups map[string]int // group and gshadow entries trail created
	// members ranks, per group, the users whose membership of it a USER
	// step made (not one the user had before trail managed it).
	members map[string]map[string]int
	// managed are the groups whose member list a GROUP step sets: its
	// order is the step's.
	managed map[string]bool
	// origins holds, per user trail manages that was there before it,
	// its origin: where it stood in the member lists of its groups then.
	origins map[string]kind.Image
}

// rankOf returns the rank of the user or group name (namespace ns), when
// the list has trail create it.
func (o *acctOrder) rankOf(ns, name string) (int, bool) {
	if o == nil {
		return 0, false
	}
	m := o.users
	if ns == groupNS {
		m = o.groups
	}
	r, ok := m[name]
	return r, ok
}

// PlanList ranks the entries of l trail creates: those of steps in
// the applied record whose origin is absent, and those of new steps that
// are not in the root's files now.
func (Group) PlanList(x *kind.Exec, l *stepfmt.List, applied func(stepfmt.ID) *kind.Record) error {
	x.Keep(acctOrderKey{}, nil)
	o := &acctOrder{users: map[string]int{}, groups: map[string]int{}, members: map[string]map[string]int{}, managed: map[string]bool{},
		origins: map[string]kind.Image{}}
	rank := func(m map[string]int, name string, i int) {
		if _, ok := m[name]; !ok {
			m[name] = i
		}
	}
	for i, s := range l.Steps {
		if s.Kind != stepfmt.KindUser && s.Kind != stepfmt.KindGroup || s.Absent() {
			continue
		}
		var origin kind.Image
		if rec := applied(s.ID()); rec != nil {
			origin = rec.Origin
			if s.Kind == stepfmt.KindUser && !origin.IsAbsent() {
				o.origins[s.Target] = origin
			}
		} else {
			var err error
			if s.Kind == stepfmt.KindUser {
				origin, err = ReadUser(x, s.Target)
			} else {
				origin, err = readGroup(x, s.Target)
			}
			if err != nil {
				return err
			}
			if s.Kind == stepfmt.KindUser && origin.IsAbsent() {
				if g, err := readGroup(x, s.Target); err != nil {
					return err
				} else if !g.IsAbsent() {
					origin.Attrs = []stepfmt.Attr{{Key: "group-kept", Value: "true"}}
				}
			}
		}
		if s.Kind == stepfmt.KindGroup {
			if origin.IsAbsent() {
				rank(o.groups, s.Target, i)
			}
			if _, ok := s.Get("members"); ok {
				o.managed[s.Target] = true
			}
			continue
		}
		if origin.IsAbsent() {
			rank(o.users, s.Target, i)
			if _, own := s.Get("group"); !own && origin.Value("group-kept") != "true" {
				rank(o.groups, s.Target, i)
			}
		}
		had := kind.SplitNames(origin.Value("groups"))
		for _, g := range kind.SplitNames(s.Value("groups")) {
			if slices.Contains(had, g) {
				continue
			}
			if o.members[g] == nil {
				o.members[g] = map[string]int{}
			}
			o.members[g][s.Target] = i
		}
	}
	x.Keep(acctOrderKey{}, o)
	return nil
}

// acctOrderKey keeps the acctOrder of an apply in its Exec.
type acctOrderKey struct{}

// orderOf returns the account order of the list being applied; nil
// outside an apply.
func orderOf(x *kind.Exec) *acctOrder {
	o, _ := x.Kept(acctOrderKey{}).(*acctOrder)
	return o
}

// putInOrder puts the account files in the order of the list being
// applied, as a fresh apply leaves them. It does nothing outside an apply.
func putInOrder(x *kind.Exec) error {
	o := orderOf(x)
	if o == nil {
		return nil
	}
	return editAccounts(x, o.apply)
}

// apply returns data of account file f with the ranked lines, and the
// ranked members of each group, in rank order; nil when nothing moves.
func (o *acctOrder) apply(f string, data []byte) []byte {
	ranks := o.users
	if f == "/etc/group" || f == "/etc/gshadow" {
		ranks = o.groups
	}
	if len(data) == 0 || data[len(data)-1] != '\n' {
		return nil // not as the tools write it: leave it to them
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	changed := false
	if f == "/etc/group" || f == "/etc/gshadow" {
		for i, l := range lines {
			if nl := o.sortMembers(l); nl != nil {
				lines[i], changed = nl, true
			}
		}
	}
	key := func(l []byte) (int, bool) {
		name, _, ok := bytes.Cut(l, []byte(":"))
		if !ok {
			return 0, false
		}
		r, ok := ranks[string(name)]
		return r, ok
	}
	if permute(lines, key) || changed {
		return bytes.Join(lines, nil)
	}
	return nil
}

// sortMembers returns group or gshadow line l with its ranked members in
// rank order, or nil when they are in order already.
func (o *acctOrder) sortMembers(l []byte) []byte {
	text := string(l)
	nl := strings.HasSuffix(text, "\n")
	text = strings.TrimSuffix(text, "\n")
	f := strings.Split(text, ":")
	if len(f) < 4 || o.managed[f[0]] || len(o.members[f[0]]) < 2 {
		return nil
	}
	ranks := o.members[f[0]]
	i := len(f) - 1 // the member list is the last field of both files
	ms := strings.Split(f[i], ",")
	if !permute(ms, func(m string) (int, bool) { r, ok := ranks[m]; return r, ok }) {
		return nil
	}
	f[i] = strings.Join(ms, ",")
	out := strings.Join(f, ":")
	if nl {
		out += "\n"
	}
	return []byte(out)
}

// permute sorts the ranked elements of s (those key ranks) by rank among
// the places they hold, leaving the others where they are. It reports
// whether anything moved.
func permute[T any](s []T, key func(T) (int, bool)) bool {
	var at, ranks []int
	var vals []T
	for i, v := range s {
		if r, ok := key(v); ok {
			at, ranks, vals = append(at, i), append(ranks, r), append(vals, v)
		}
	}
	idx := make([]int, len(vals))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return ranks[a] - ranks[b] })
	moved := false
	for j, i := range at {
		s[i] = vals[idx[j]]
		moved = moved || idx[j] != j
	}
	return moved
}

// memberPlacesBack returns, for a user whose change made it a member
// again of groups it was in before trail (in had, its groups before trail,
// and want, not in before), an image noting where it stood in their member
// lists before trail: usermod -G appends it, where a fresh apply of the
// list, which finds it a member, leaves it in place. Nothing otherwise.
func (o *acctOrder) memberPlacesBack(name string, before, want kind.Image) (kind.Image, bool) {
	if o == nil {
		return kind.Image{}, false
	}
	origin, ok := o.origins[name]
	if !ok {
		return kind.Image{}, false
	}
	had, was := kind.SplitNames(origin.Value("groups")), kind.SplitNames(before.Value("groups"))
	back := map[string]bool{}
	for _, g := range kind.SplitNames(want.Value("groups")) {
		if slices.Contains(had, g) && !slices.Contains(was, g) {
			back[g] = true
		}
	}
	if len(back) == 0 {
		return kind.Image{}, false
	}
	img := kind.Image{State: stUser}
	for _, nl := range nameLists {
		v, ok := origin.Get(nl.key)
		if !ok || nl.add {
			continue // the administrators, which usermod -G leaves alone
		}
		var keep []string
		for _, p := range strings.Split(v, ",") {
			if g, _, _ := strings.Cut(p, ":"); back[g] {
				keep = append(keep, p)
			}
		}
		if len(keep) > 0 {
			img.Attrs = append(img.Attrs, stepfmt.Attr{Key: nl.key, Value: strings.Join(keep, ",")})
		}
	}
	return img, len(img.Attrs) > 0
}
