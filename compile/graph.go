package compile

import "trail/stepfmt"

// The ordering graph: nodes, edges laid out by node, and the sort.

type edge struct {
	to  int32
	why why
}

// node is a step, or a virtual "resource done" node (step nil) that
// depends_on edges go through so that a dependency between two big trees
// costs n+m edges. The steps' nodes come first, in declaration order.
type node struct {
	step *stepfmt.Step
	res  *resource
}

// graph holds its edges as added, then (build) each node's successors
// in one slice, in the order they were added: 12 bytes an edge and 4 a
// node, where a slice of successors per node cost 24 bytes a node and
// half again its edges in growth.
type graph struct {
	nodes []node
	added []addedEdge
	off   []int32 // the successors of i are edges[off[i]:off[i+1]]
	edges []edge
	indeg []int32
	// back is set once an edge goes from a node to one before it: until
	// then the declaration order is the order (see inOrder).
	back bool
}

type addedEdge struct {
	from int32
	edge
}

// prio orders ready nodes: steps by declaration, virtual nodes first.
func (g *graph) prio(i int32) int32 {
	if g.nodes[i].step == nil {
		return -1
	}
	return i
}

func (g *graph) add(from, to int32, w why) {
	if from == to {
		return
	}
	g.added = append(g.added, addedEdge{from, edge{to, w}})
	g.indeg[to]++
	g.back = g.back || from > to
}

// inOrder reports whether the declaration order is the sort's own
// result, so that it need not run: no virtual node, and every edge from
// a step to a later one. Then, as sort takes the first declared of the
// ready steps, the k-th it takes is step k, whose predecessors all come
// before it; a tree of 100,000 files sorted by a heap took a quarter of a
// pull's compile.
func (g *graph) inOrder(steps int) bool { return !g.back && len(g.nodes) == steps }

// build lays the edges out by node, each node's in the order added.
func (g *graph) build() {
	n := len(g.nodes)
	g.off = make([]int32, n+1)
	for _, e := range g.added {
		g.off[e.from+1]++
	}
	for i := 1; i <= n; i++ {
		g.off[i] += g.off[i-1]
	}
	g.edges = make([]edge, len(g.added))
	for _, e := range g.added {
		g.edges[g.off[e.from]] = e.edge
		g.off[e.from]++
	}
	copy(g.off[1:], g.off[:n])
	g.off[0] = 0
	g.added = nil
}

// succ is what must come after node i.
func (g *graph) succ(i int32) []edge { return g.edges[g.off[i]:g.off[i+1]] }

// sort is Kahn's algorithm with the ready set ordered by priority. It
// returns the order and whether every node was placed.
func (g *graph) sort() ([]int32, bool) {
	// The in-degrees are used up: nothing needs them after.
	indeg := g.indeg
	h := &readyHeap{g: g}
	for i, d := range indeg {
		if d == 0 {
			h.items = append(h.items, int32(i))
		}
	}
	for i := len(h.items)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
	out := make([]int32, 0, len(g.nodes))
	for len(h.items) > 0 {
		i := h.pop()
		out = append(out, i)
		for _, e := range g.succ(i) {
			if indeg[e.to]--; indeg[e.to] == 0 {
				h.push(e.to)
			}
		}
	}
	return out, len(out) == len(g.nodes)
}

// readyHeap is a binary min-heap of node numbers by priority, typed
// rather than container/heap's, which boxed every number it pushed.
type readyHeap struct {
	g     *graph
	items []int32
}

func (h *readyHeap) less(i, j int) bool {
	a, b := h.g.prio(h.items[i]), h.g.prio(h.items[j])
	if a != b {
		return a < b
	}
	return h.items[i] < h.items[j]
}

func (h *readyHeap) push(x int32) {
	h.items = append(h.items, x)
	for j := len(h.items) - 1; j > 0; {
		p := (j - 1) / 2
		if !h.less(j, p) {
			break
		}
		h.items[j], h.items[p] = h.items[p], h.items[j]
		j = p
	}
}

func (h *readyHeap) pop() int32 {
	x := h.items[0]
	last := len(h.items) - 1
	h.items[0] = h.items[last]
	h.items = h.items[:last]
	h.down(0)
	return x
}

func (h *readyHeap) down(i int) {
	n := len(h.items)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		j := l
		if r := l + 1; r < n && h.less(r, l) {
			j = r
		}
		if !h.less(j, i) {
			return
		}
		h.items[i], h.items[j] = h.items[j], h.items[i]
		i = j
	}
}
