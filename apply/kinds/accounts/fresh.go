package accounts

import (
	"strconv"
	"strings"

	"trail/apply/kind"
)

// freshCut gives a new account the ids a fresh apply gives it when
// accounts the list creates after it are in the files already (ids.go):
// the ids chosen among the files without those accounts, when they are
// free in the files as they are. It is the native path's freshIDs,
// computed without a scratch run of the tool.
type freshCut struct {
	n                 *native
	o                 *acctOrder
	maxUser, maxGroup int // the highest rank of a ranked entry in passwd, in group; -1 for none
}

func newFreshCut(x *kind.Exec, n *native) *freshCut {
	c := &freshCut{n: n, o: orderOf(x), maxUser: -1, maxGroup: -1}
	if c.o == nil {
		return c
	}
	for name := range n.files["/etc/passwd"].first {
		if r, ok := c.o.users[name]; ok {
			c.maxUser = max(c.maxUser, r)
		}
	}
	for name := range n.files["/etc/group"].first {
		if r, ok := c.o.groups[name]; ok {
			c.maxGroup = max(c.maxGroup, r)
		}
	}
	return c
}

// ids returns user name's uid (uok) and its own group's gid (gok) as a
// fresh apply chooses them, when they differ from what the files as they
// are give and are free there. uid is the step's own, when hasUID.
func (c *freshCut) ids(name string, system, hasUID bool, uid uint64, own bool) (u, g uint64, uok, gok bool) {
	if c.o == nil {
		return 0, 0, false, false
	}
	rank, ranked := c.o.users[name]
	if !ranked || hasUID && !own || c.maxUser <= rank && c.maxGroup <= rank {
		return 0, 0, false, false
	}
	pw, gr := c.n.files["/etc/passwd"], c.n.files["/etc/group"]
	u = uid
	if !hasUID {
		var ok bool
		if u, ok = newID(c.n.defs, "UID", &idSet{used: c.without(pw, c.o.users, rank)}, system, nil); !ok {
			return 0, 0, false, false
		}
		uok = pw.ids[u] == 0
	}
	if own {
		var ok bool
		g, ok = newID(c.n.defs, "GID", &idSet{used: c.without(gr, c.o.groups, rank)}, system, &u)
		gok = ok && gr.ids[g] == 0
	}
	return u, g, uok, gok
}

// without returns the ids of f's entries but those ranked after rank.
func (c *freshCut) without(f *nfile, ranks map[string]int, rank int) map[uint64]int {
	out := map[uint64]int{}
	for _, l := range f.lines {
		fs := strings.SplitN(l, ":", 4)
		if len(fs) < 3 || fs[0] == "" {
			continue
		}
		if r, ok := ranks[fs[0]]; ok && r > rank {
			continue
		}
		if id, err := strconv.ParseUint(fs[2], 10, 32); err == nil {
			out[id]++
		}
	}
	return out
}

// created notes user name made, with its own group when own.
func (c *freshCut) created(name string, own bool) {
	if c.o == nil {
		return
	}
	if r, ok := c.o.users[name]; ok {
		c.maxUser = max(c.maxUser, r)
	}
	if r, ok := c.o.groups[name]; ok && own {
		c.maxGroup = max(c.maxGroup, r)
	}
}

// gidOf returns the gid a fresh apply gives new group name, when it
// differs from what the files as they are give and is free there.
func (c *freshCut) gidOf(name string, system bool) (uint64, bool) {
	if c.o == nil {
		return 0, false
	}
	rank, ranked := c.o.groups[name]
	if !ranked || c.maxUser <= rank && c.maxGroup <= rank {
		return 0, false
	}
	gr := c.n.files["/etc/group"]
	g, ok := newID(c.n.defs, "GID", &idSet{used: c.without(gr, c.o.groups, rank)}, system, nil)
	return g, ok && gr.ids[g] == 0
}

// createdGroup notes group name made.
func (c *freshCut) createdGroup(name string) {
	if c.o == nil {
		return
	}
	if r, ok := c.o.groups[name]; ok {
		c.maxGroup = max(c.maxGroup, r)
	}
}
