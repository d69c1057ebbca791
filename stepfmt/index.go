package stepfmt

import (
	"hash/maphash"
	"math/bits"
)

// Index finds steps by namespace and target (the identity a target is
// managed twice by): an open-addressed table of step numbers, 8 to 16
// bytes a step, where a map keyed by namespace and target costs about 60
// and grows by doubling. The steps are given by their number, so any
// sequence of steps can be indexed without a copy. Each slot keeps, above
// the step's number, a few bits of its hash, so a probe looks at another
// step only when those match.
type Index struct {
	step  func(i int) *Step
	seed  maphash.Seed
	slots []uint32 // tag<<shift | step number + 1; 0 is empty
	mask  uint64
	shift uint // bits of the step number
}

// NewIndex makes an index for n steps, step(i) giving the i-th; it holds
// none until Add.
func NewIndex(n int, step func(i int) *Step) *Index {
	size := 8
	for size < 2*n {
		size *= 2
	}
	return &Index{step: step, seed: maphash.MakeSeed(), slots: make([]uint32, size), mask: uint64(size - 1),
		shift: uint(bits.Len(uint(n + 1)))}
}

// For is the index with its steps given by step: the same steps under
// the same numbers, such as a list made in the order they were indexed.
func (x *Index) For(step func(i int) *Step) *Index {
	y := *x
	y.step = step
	return &y
}

// hash is the target's, told apart by the namespace's length (a probe
// compares both; paths, the most, start with a slash and other targets
// not), and the tag kept with it.
func (x *Index) hash(ns, target string) (uint64, uint32) {
	h := maphash.String(x.seed, target) + uint64(len(ns))*0x9e3779b97f4a7c15
	if x.shift >= 32 {
		return h, 0
	}
	return h, uint32(h>>32) >> x.shift
}

// Add indexes step i under its namespace and target, unless a step
// already is: then it returns that step's number and true.
func (x *Index) Add(i int) (int, bool) {
	s := x.step(i)
	ns := Namespace(s.Kind)
	h, tag := x.hash(ns, s.Target)
	for h &= x.mask; ; h = (h + 1) & x.mask {
		v := x.slots[h]
		if v == 0 {
			x.slots[h] = tag<<x.shift | uint32(i+1)
			return i, false
		}
		if v>>x.shift != tag {
			continue
		}
		j := int(v&(1<<x.shift-1)) - 1
		if t := x.step(j); t.Target == s.Target && Namespace(t.Kind) == ns {
			return j, true
		}
	}
}

// Find returns the number of the step indexed under ns and target.
func (x *Index) Find(ns, target string) (int, bool) {
	h, tag := x.hash(ns, target)
	for h &= x.mask; ; h = (h + 1) & x.mask {
		v := x.slots[h]
		if v == 0 {
			return 0, false
		}
		if v>>x.shift != tag {
			continue
		}
		j := int(v&(1<<x.shift-1)) - 1
		if t := x.step(j); t.Target == target && Namespace(t.Kind) == ns {
			return j, true
		}
	}
}

// LastFind is Find that remembers its last answer: the steps of a tree
// name one owner and one group, so each is looked up once, not once a
// step. It serves one index, whose steps do not change meanwhile.
type LastFind struct {
	target string
	at     int
	ok     bool
	set    bool
}

// Find is x.Find(ns, target), from memory when target is the last one
// asked (one LastFind serves one namespace).
func (m *LastFind) Find(x *Index, ns, target string) (int, bool) {
	if !m.set || target != m.target {
		m.at, m.ok = x.Find(ns, target)
		m.target, m.set = target, true
	}
	return m.at, m.ok
}
