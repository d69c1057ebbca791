package compile

import (
	"slices"

	"trail/stepfmt"
)

// isAbsent evaluates a block's absent attribute; false when the block
// cannot be absent or does not say so. absent = false is a present block,
// so that a variable can turn a resource around.
func (r *resource) isAbsent() bool {
	if r.kd.absent == nil {
		return false
	}
	v, _, good := r.boolAttr("absent", "Invalid value for absent")
	return good && v
}

// buildAbsent fills the step of a block with absent = true. It describes
// no present target, so any attribute but the target, the meta attributes
// and the kind's absent list is an error at that attribute (one that is
// null is not given, so that one block can say both). A unit is
// absent when it is disabled and stopped (masked too with masked = true):
// its unit file is not trail's to remove, so it compiles to a UNIT step
// with enabled=false and running=false rather than to absent=true.
func (r *resource) buildAbsent(st *stepfmt.Step) {
	names := make([]string, 0, len(r.attrs))
	for name := range r.attrs {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if name == "absent" || name == r.kd.target || slices.Contains(metaAttrs, name) || slices.Contains(r.kd.absent, name) {
			continue
		}
		a := r.attrs[name]
		r.diag(errorf(a.NameRange.Ptr(), "Attribute of an absent "+r.kd.block,
			"absent = true asks for the whole %s not to be there, so %s says nothing; drop it, or drop absent (an absent %s takes only %s).",
			r.kd.block, name, r.kd.block, joinAnd(r.kd.absent)))
	}
	for _, f := range r.kd.fields {
		if slices.Contains(r.kd.absent, f.name) {
			f.def = ""
			r.setField(st, f)
		}
	}
	for _, name := range absentOnly(r.kd) {
		r.setField(st, field{name: name, key: name})
	}
	if st.Kind == stepfmt.KindUnit {
		st.Set("enabled", "false")
		st.Set("running", "false")
		return
	}
	st.Set("absent", "true")
}

// absentOnly lists the attributes only an absent block of kd's type takes
// (a directory's recursive).
func absentOnly(kd *kindDef) []string {
	var out []string
	for _, name := range kd.absent {
		if !slices.ContainsFunc(kd.fields, func(f field) bool { return f.name == name }) && !slices.Contains(kd.extra, name) {
			out = append(out, name)
		}
	}
	return out
}

// requirePresent reports the attributes a present block of its type needs,
// and those only an absent one takes.
func (r *resource) requirePresent() {
	for _, name := range absentOnly(r.kd) {
		if a, ok := r.attrs[name]; ok {
			r.diag(errorf(a.NameRange.Ptr(), "Attribute of a present "+r.kd.block,
				"%s says how an absent %s goes: it goes with absent = true only.", name, r.kd.block))
		}
	}
	for _, name := range presentRequired[r.kd.block] {
		if _, null := r.nulls[name]; null {
			r.requireNotNull(name)
		} else if _, ok := r.attrs[name]; !ok {
			rng := r.block.Body.MissingItemRange()
			r.diag(errorf(&rng, "Missing required argument", "The argument %q is required, but no definition was found.", name))
		}
	}
}

func joinAnd(names []string) string {
	switch len(names) {
	case 0:
		return "its target"
	case 1:
		return names[0]
	}
	out := names[0]
	for _, n := range names[1 : len(names)-1] {
		out += ", " + n
	}
	return out + " and " + names[len(names)-1]
}
