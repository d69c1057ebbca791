package compile

import (
	"fmt"
	"strings"

	"trail/stepfmt"
)

// Order. Steps are nodes of a graph whose edges say "must come before":
// explicit depends_on, and the implicit rules
//
//   - a path's nearest managed ancestor directory comes before it, and
//     after it when the directory is absent (what is in it goes first);
//   - a package comes before paths at or under what it owns;
//   - a user or group comes before paths it owns (owner, group);
//   - a group comes before users that name it (group, groups);
//   - a path comes before the unit that names it or a directory above it
//     in restart-on or reload-on, and so does a package or command named
//     there, and unit files and drop-ins (systemd unit directories)
//     before their unit, an absent one after it;
//   - an absent user comes before every absent group, and a unit that
//     is disabled and stopped (an absent unit) before every absent
//     package;
//   - a path where apt reads sources, keys or pins comes before every
//     package.
//
// The output is the topological order that, whenever several steps are
// ready, takes the one declared first: files in name order, blocks in file
// order, included files after their includer, module contents at the module
// block, for_each instances in key order (lists in list order), tree
// entries in path order. So the order is stable under unrelated edits.

// why says which rule made an edge, for cycle messages.
type why uint8

const (
	whyParent why = iota
	whyPackage
	whyOwner
	whyGroup
	whyRestart
	whyUnitFile
	whyDepends
	whyAptSource
)

var whyText = [...]string{"parent directory", "package owns the path", "owner", "group",
	"restart_on or reload_on", "unit file", "depends_on",
	"apt sources and pins before packages"}

// unitDirs are where systemd reads unit files from.
var unitDirs = []string{"/etc/systemd/system/", "/usr/local/lib/systemd/system/",
	"/lib/systemd/system/", "/usr/lib/systemd/system/"}

// unitOf names the unit a path configures: a unit file or a file in its
// .d drop-in directory.
func unitOf(p string) string {
	for _, d := range unitDirs {
		rest, ok := strings.CutPrefix(p, d)
		if !ok {
			continue
		}
		first, _, nested := strings.Cut(rest, "/")
		if u, ok := strings.CutSuffix(first, ".d"); ok {
			return u
		}
		if !nested {
			return first
		}
	}
	return ""
}

// order sorts every step and returns them with their origins.
func (c *compiler) order() ([]*stepfmt.Step, []Origin) {
	g := &graph{nodes: make([]node, 0, c.nsteps)}
	for _, r := range c.resources {
		r.first, r.count = int32(len(g.nodes)), int32(len(r.steps))
		for _, st := range r.steps {
			g.nodes = append(g.nodes, node{step: st, res: r})
		}
		// The nodes hold the steps now.
		r.steps = nil
	}
	g.indeg = make([]int32, len(g.nodes))
	g.added = make([]addedEdge, 0, len(g.nodes))
	index, dups := c.implicitEdges(g)
	aptSourceEdges(g)
	c.dependsEdges(g)
	var order []int32
	if g.inOrder(c.nsteps) && !c.reference {
		g.added, g.indeg = nil, nil
		if !dups {
			// The list's steps are the nodes', numbered alike: the
			// validation takes this index rather than making its own.
			c.listIndex = index
		}
		order = make([]int32, len(g.nodes))
		for i := range order {
			order[i] = int32(i)
		}
	} else {
		g.build()
		var ok bool
		if order, ok = g.sort(); !ok {
			c.reportCycle(g, order)
			return nil, nil
		}
	}
	// The edges are spent: let them go before the list is made.
	g.edges, g.off, g.indeg = nil, nil, nil
	steps := make([]*stepfmt.Step, 0, len(order))
	origins := make([]Origin, 0, len(order))
	for _, i := range order {
		n := &g.nodes[i]
		if n.step == nil {
			continue
		}
		r := n.res
		if r.maker == nil {
			r.maker = &Maker{Resource: r.addr, Range: r.rng}
		}
		steps = append(steps, n.step)
		o := Origin{Maker: r.maker}
		if r.repo != nil {
			o.RepoPath = r.repo[i-r.first]
		}
		origins = append(origins, o)
	}
	// What the resources kept of their steps served the order only.
	for _, r := range c.resources {
		r.repo = nil
	}
	return steps, origins
}

// implicitEdges adds the edges of the implicit rules, and returns the
// index it found steps by (every step, in node order) and whether it
// found a step twice.
func (c *compiler) implicitEdges(g *graph) (*stepfmt.Index, bool) {
	n := int32(len(g.nodes))
	// The first step of each identity, for paths, users, groups and units.
	index := stepfmt.NewIndex(int(n), func(i int) *stepfmt.Step { return g.nodes[i].step })
	dups := false
	find := func(ns, target string) (int32, bool) {
		j, ok := index.Find(ns, target)
		return int32(j), ok
	}
	// The directory, owner and group looked up last: a tree's files come
	// a directory at a time and name one owner and group.
	var dir, owner, group stepfmt.LastFind
	owns := map[string][]int32{}
	var absentGroups, absentPkgs []int32
	for i := int32(0); i < n; i++ {
		st := g.nodes[i].step
		if _, dup := index.Add(int(i)); dup {
			dups = true
		}
		if st.Kind == stepfmt.KindPackage {
			for _, p := range g.nodes[i].res.owns {
				owns[p] = append(owns[p], i)
			}
		}
		if st.Kind == stepfmt.KindGroup && st.Absent() {
			absentGroups = append(absentGroups, i)
		}
		if st.Kind == stepfmt.KindPackage && st.Absent() {
			absentPkgs = append(absentPkgs, i)
		}
	}
	for i := int32(0); i < n; i++ {
		st := g.nodes[i].step
		switch {
		case stepfmt.IsPath(st.Kind):
			for _, k := range owns[st.Target] {
				g.add(k, i, whyPackage)
			}
			parent := false
			for p := st.Target; ; {
				cut := strings.LastIndexByte(p, '/')
				if cut <= 0 || parent && len(owns) == 0 {
					break
				}
				p = p[:cut]
				if !parent {
					if j, ok := dir.Find(index, "path", p); ok {
						if g.nodes[j].step.Absent() {
							g.add(i, int32(j), whyParent)
						} else {
							g.add(int32(j), i, whyParent)
						}
						parent = true
					}
				}
				for _, k := range owns[p] {
					g.add(k, i, whyPackage)
				}
			}
			if j, ok := owner.Find(index, "user", st.Value("owner")); ok {
				g.add(int32(j), i, whyOwner)
			}
			if j, ok := group.Find(index, "group", st.Value("group")); ok {
				g.add(int32(j), i, whyGroup)
			}
			if u := unitOf(st.Target); u != "" {
				if j, ok := find("unit", u); ok && st.Absent() {
					g.add(j, i, whyUnitFile)
				} else if ok {
					g.add(i, j, whyUnitFile)
				}
			}
		case st.Kind == stepfmt.KindUser && st.Absent():
			// Its primary group may be one the list removes, which
			// groupdel refuses while the user is there.
			for _, j := range absentGroups {
				g.add(i, j, whyGroup)
			}
		case st.Kind == stepfmt.KindUser:
			if j, ok := find("group", st.Value("group")); ok {
				g.add(j, i, whyGroup)
			}
			for _, name := range st.List("groups") {
				if j, ok := find("group", name); ok {
					g.add(j, i, whyGroup)
				}
			}
		case st.Kind == stepfmt.KindUnit:
			triggerEdges(g, i, append(st.List("restart-on"), st.List("reload-on")...))
			if st.Value("enabled") == "false" && st.Value("running") == "false" {
				// Stopped before the package that may ship it goes, and
				// so started again after it is back.
				for _, j := range absentPkgs {
					g.add(i, j, whyUnitFile)
				}
			}
		}
	}
	return index, dups
}

// triggerEdges puts every path step at or under a unit's trigger paths,
// and the packages and commands it names, before the unit (i), so that it
// starts with its whole configuration.
func triggerEdges(g *graph, i int32, triggers []string) {
	if len(triggers) == 0 {
		return
	}
	under := make(map[string]bool, len(triggers))
	for _, p := range triggers {
		under[p] = true
	}
	for j := range g.nodes {
		st := g.nodes[j].step
		if st == nil {
			continue
		}
		if !stepfmt.IsPath(st.Kind) {
			if w, ok := stepfmt.TriggerOf(st.Kind, st.Target); ok && under[w] {
				g.add(int32(j), i, whyRestart)
			}
			continue
		}
		for q := st.Target; ; {
			if under[q] {
				g.add(int32(j), i, whyRestart)
				break
			}
			cut := strings.LastIndexByte(q, '/')
			if cut <= 0 {
				if q != "/" && under["/"] {
					g.add(int32(j), i, whyRestart)
				}
				break
			}
			q = q[:cut]
		}
	}
}

// dependsEdges routes each depends_on through the dependency's virtual
// "done" node.
func (c *compiler) dependsEdges(g *graph) {
	for _, r := range c.resources {
		for _, d := range r.deps {
			if d.virt < 0 {
				d.virt = int32(len(g.nodes))
				g.nodes = append(g.nodes, node{res: d})
				g.indeg = append(g.indeg, 0)
				for k := range d.count {
					g.add(d.first+int32(k), d.virt, whyDepends)
				}
			}
			for k := range r.count {
				g.add(d.virt, r.first+int32(k), whyDepends)
			}
		}
	}
}

// reportCycle finds one cycle among the nodes sort could not place and
// reports it with the blocks involved. Walking backwards along edges from
// unplaced nodes must loop, since each has an unplaced predecessor.
func (c *compiler) reportCycle(g *graph, placed []int32) {
	done := make([]bool, len(g.nodes))
	for _, i := range placed {
		done[i] = true
	}
	type pred struct {
		from int32
		why  why
	}
	preds := make([]pred, len(g.nodes))
	has := make([]bool, len(g.nodes))
	for from := range g.nodes {
		if done[from] {
			continue
		}
		for _, e := range g.succ(int32(from)) {
			if !done[e.to] && (!has[e.to] || g.prio(int32(from)) < g.prio(preds[e.to].from)) {
				preds[e.to], has[e.to] = pred{int32(from), e.why}, true
			}
		}
	}
	start := int32(-1)
	for i := range g.nodes {
		if !done[i] && (start < 0 || g.prio(int32(i)) < g.prio(start)) && g.nodes[i].step != nil {
			start = int32(i)
		}
	}
	if start < 0 {
		return
	}
	seen := map[int32]int{}
	var walk []int32
	for i := start; ; i = preds[i].from {
		if at, ok := seen[i]; ok {
			walk = walk[at:]
			break
		}
		seen[i] = len(walk)
		walk = append(walk, i)
	}
	// walk runs backwards; turn it forwards, starting at a step.
	fwd := make([]int32, len(walk))
	for k := range walk {
		fwd[k] = walk[len(walk)-1-k]
	}
	for g.nodes[fwd[0]].step == nil {
		fwd = append(fwd[1:], fwd[0])
	}
	var b strings.Builder
	first := g.nodes[fwd[0]]
	for k, i := range fwd {
		n := g.nodes[i]
		if n.step == nil {
			continue
		}
		next := fwd[(k+1)%len(fwd)]
		fmt.Fprintf(&b, "%s (%s at %s) —%s→ ", n.step.ID(), n.res.addr, at(n.res.block.DefRange), whyText[preds[next].why])
	}
	b.WriteString(first.step.ID().String())
	c.diags = append(c.diags, errorf(first.res.block.DefRange.Ptr(), "Dependency cycle",
		"These steps each have to come before the next, in a circle: %s. Remove a depends_on, or move a path, to break it.", b.String()))
}
