package stepfmt

import (
	"bytes"
	"io"
	"slices"
	"strings"
)

// Op is what a plan does with one step.
type Op int

// The plan operations. Remove reverses an applied step; Add and Modify run a
// step forward.
const (
	OpRemove Op = iota
	OpAdd
	OpModify
)

func (o Op) String() string {
	switch o {
	case OpRemove:
		return "remove"
	case OpAdd:
		return "add"
	case OpModify:
		return "modify"
	}
	return "?"
}

// Sign is the diff -u style mark of an operation: - + or ~.
func (o Op) Sign() byte { return "-+~"[o] }

// Change is one entry of a plan.
type Change struct {
	Op Op
	// Step is the step to run: for OpRemove the old (applied) step, whose
	// reverse runs; for OpAdd and OpModify the new step.
	Step *Step
	// Old is the applied step an OpModify replaces.
	Old *Step
	// Changed names the attributes an OpModify changes, in canonical order.
	Changed []string
}

// Plan is the ordered work that moves a host from an old list to a new one:
// every removed step in reverse old order, then every added or modified step
// in new order.
type Plan struct {
	Changes   []Change
	Unchanged int
}

// Empty reports whether the plan changes nothing.
func (p *Plan) Empty() bool { return len(p.Changes) == 0 }

// Replaced counts the removals whose identity the plan adds again (a
// target turned absent, or back): the target stays managed.
func (p *Plan) Replaced() int {
	added := map[ID]bool{}
	for _, c := range p.Changes {
		if c.Op == OpAdd {
			added[c.Step.ID()] = true
		}
	}
	n := 0
	for _, c := range p.Changes {
		if c.Op == OpRemove && added[c.Step.ID()] {
			n++
		}
	}
	return n
}

// Count returns how many changes of op the plan has.
func (p *Plan) Count(op Op) int {
	n := 0
	for _, c := range p.Changes {
		if c.Op == op {
			n++
		}
	}
	return n
}

// Diff computes the plan from old (applied) to new (compiled). Steps are
// matched by identity (kind and target); a matched step whose attributes
// differ is a modify, unless absent=true comes or goes: that is a remove
// and an add (Replaced counts them). Sources are not compared.
func Diff(old, new []*Step) *Plan {
	find := finder(old)
	matched := make([]bool, len(old))
	adds := make([]Change, 0)
	unchanged := 0
	for _, s := range new {
		i, ok := find(s)
		if !ok || matched[i] || old[i].Absent() != s.Absent() {
			// A target turned absent, or back, is a remove and an add:
			// the reverse first gives back what was there before trail,
			// which the new step then acts on, as a fresh apply would.
			adds = append(adds, Change{Op: OpAdd, Step: s})
			continue
		}
		matched[i] = true
		o := old[i]
		if o.SameAttrs(s) {
			unchanged++
			continue
		}
		adds = append(adds, Change{Op: OpModify, Step: s, Old: o, Changed: changedKeys(o, s)})
	}
	removed := 0
	for _, m := range matched {
		if !m {
			removed++
		}
	}
	p := &Plan{Unchanged: unchanged, Changes: make([]Change, 0, removed+len(adds))}
	for i := len(old) - 1; i >= 0; i-- {
		if !matched[i] {
			p.Changes = append(p.Changes, Change{Op: OpRemove, Step: old[i]})
		}
	}
	p.Changes = append(p.Changes, adds...)
	return p
}

// finder returns a function that finds the place in old of a step's
// identity (the last, should old have it twice). The lists of two commits
// mostly share their order, so it looks first after the step it found
// last; else it searches old's places sorted by identity, made on the
// first miss: a map of 100,000 identities would take 6 MB.
func finder(old []*Step) func(*Step) (int, bool) {
	next := 0
	var sorted []int32
	return func(s *Step) (int, bool) {
		if next < len(old) && compareID(old[next], s) == 0 && (next+1 == len(old) || compareID(old[next+1], s) != 0) {
			next++
			return next - 1, true
		}
		if sorted == nil {
			sorted = make([]int32, len(old))
			for i := range sorted {
				sorted[i] = int32(i)
			}
			slices.SortStableFunc(sorted, func(a, b int32) int { return compareID(old[a], old[b]) })
		}
		i, ok := slices.BinarySearchFunc(sorted, s, func(j int32, s *Step) int { return compareID(old[j], s) })
		if !ok {
			return 0, false
		}
		for i+1 < len(sorted) && compareID(old[sorted[i+1]], s) == 0 {
			i++
		}
		next = int(sorted[i]) + 1
		return int(sorted[i]), true
	}
}

// compareID orders steps by identity: kind, then target.
func compareID(a, b *Step) int {
	if c := strings.Compare(string(a.Kind), string(b.Kind)); c != 0 {
		return c
	}
	return strings.Compare(a.Target, b.Target)
}

// changedKeys lists the attributes that differ between a and b, in the
// kind's canonical order (both lists are canonically ordered).
func changedKeys(a, b *Step) []string {
	var out []string
	seen := func(k string) bool {
		for _, x := range out {
			if x == k {
				return true
			}
		}
		return false
	}
	for _, x := range a.Attrs {
		if v, ok := b.Get(x.Key); !ok || v != x.Value {
			out = append(out, x.Key)
		}
	}
	for _, x := range b.Attrs {
		if _, ok := a.Get(x.Key); !ok && !seen(x.Key) {
			out = append(out, x.Key)
		}
	}
	sortKeys(a.Kind, out)
	return out
}

func sortKeys(k Kind, keys []string) {
	attrs := make([]Attr, len(keys))
	for i, key := range keys {
		attrs[i].Key = key
	}
	sortAttrs(k, attrs)
	for i := range attrs {
		keys[i] = attrs[i].Key
	}
}

// PrintPlan writes the plan in a diff -u like form: one line per change
// marked - (reverse), + (add) or ~ (modify) with the step and its source,
// and under each modify one line per changed attribute, old -> new.
func PrintPlan(w io.Writer, p *Plan) error {
	var b bytes.Buffer
	for _, c := range p.Changes {
		b.WriteByte(c.Op.Sign())
		b.WriteByte(' ')
		AppendStep(&b, Masked(c.Step), true)
		b.WriteByte('\n')
		for _, k := range c.Changed {
			b.WriteString("    ")
			b.WriteString(k)
			b.WriteString(": ")
			b.WriteString(attrOrUnset(c.Old, k))
			b.WriteString(" -> ")
			b.WriteString(attrOrUnset(c.Step, k))
			b.WriteByte('\n')
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

func attrOrUnset(s *Step, k string) string {
	if v, ok := s.Get(k); ok && IsHidden(s.Kind, k) {
		return Hidden
	} else if ok {
		return Quote(v)
	}
	return "(unset)"
}
