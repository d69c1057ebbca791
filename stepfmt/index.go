package stepfmt

import "hash/maphash"

// Index finds steps by namespace and target (the identity a target is
// managed twice by): an open-addressed table of step numbers, 8 to 16
// bytes a step, where a map keyed by namespace and target costs about 60
// and grows by doubling. The steps are given by their number, so any
// sequence of steps can be indexed without a copy.
type Index struct {
	step  func(i int) *Step
	seed  maphash.Seed
	slots []int32 // step number + 1; 0 is empty
	mask  uint64
}

// NewIndex makes an index for n steps, step(i) giving the i-th; it holds
// none until Add.
func NewIndex(n int, step func(i int) *Step) *Index {
	size := 8
	for size < 2*n {
		size *= 2
	}
	return &Index{step: step, seed: maphash.MakeSeed(), slots: make([]int32, size), mask: uint64(size - 1)}
}

func (x *Index) hash(ns, target string) uint64 {
	return maphash.String(x.seed, target) ^ maphash.String(x.seed, ns)*0x9e3779b97f4a7c15
}

// Add indexes step i under its namespace and target, unless a step
// already is: then it returns that step's number and true.
func (x *Index) Add(i int) (int, bool) {
	s := x.step(i)
	ns := Namespace(s.Kind)
	for h := x.hash(ns, s.Target) & x.mask; ; h = (h + 1) & x.mask {
		j := int(x.slots[h]) - 1
		if j < 0 {
			x.slots[h] = int32(i + 1)
			return i, false
		}
		if t := x.step(j); t.Target == s.Target && Namespace(t.Kind) == ns {
			return j, true
		}
	}
}

// Find returns the number of the step indexed under ns and target.
func (x *Index) Find(ns, target string) (int, bool) {
	for h := x.hash(ns, target) & x.mask; ; h = (h + 1) & x.mask {
		j := int(x.slots[h]) - 1
		if j < 0 {
			return 0, false
		}
		if t := x.step(j); t.Target == target && Namespace(t.Kind) == ns {
			return j, true
		}
	}
}
