package compile

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"trail/internal/lineedit"
	"trail/stepfmt"
)

// editFields are the attributes of one line edit, in a block or in an
// element of its edits list.
var editFields = []string{"line", "regexp", "after", "before", "absent"}

// editAttrs are the attributes an edit block reads beyond the generic ones.
var editAttrs = append(slices.Clone(editFields), "edits")

// buildEdit makes an EDIT step's edit script: one edit from the block's
// own attributes, or several, applied in order, from edits. The script
// goes into the content store like a file's content.
func buildEdit(r *resource, st *stepfmt.Step) {
	var top []string
	for _, n := range editFields {
		if _, ok := r.attrs[n]; ok {
			top = append(top, n)
		}
	}
	list, hasList := r.attrs["edits"]
	var edits []lineedit.Edit
	switch {
	case hasList && len(top) > 0:
		r.diag(errorf(list.NameRange.Ptr(), "Edits given twice",
			"This edit block has edits and %s: give one edit by its attributes, or several in edits = [{ line = \"...\", regexp = \"...\" }, ...], not both.", strings.Join(top, " and ")))
		return
	case hasList:
		var ok bool
		if edits, ok = r.editList(list); !ok {
			return
		}
	case len(top) > 0:
		e, ok := r.editOf(func(name string) (cty.Value, hcl.Range, bool) {
			a, ok := r.attrs[name]
			if !ok {
				return cty.NilVal, hcl.Range{}, false
			}
			v, diags := r.evalAttr(a)
			r.sc.c.diags = append(r.sc.c.diags, diags...)
			return v, a.Expr.Range(), !diags.HasErrors()
		}, r.block.DefRange)
		if !ok {
			return
		}
		edits = []lineedit.Edit{e}
	default:
		r.diag(errorf(r.block.DefRange.Ptr(), "Missing edit",
			"An edit block needs an edit: line = \"...\" (with regexp, after or before to place it), absent = true with regexp to remove lines, or several in edits = [{ ... }, ...]."))
		return
	}
	if len(edits) == 0 {
		r.diag(errorf(list.Expr.Range().Ptr(), "Missing edit", "edits is empty: an edit block needs at least one edit."))
		return
	}
	st.Set("edits", r.sc.c.blob(lineedit.Format(edits)))
}

// editList reads edits = [{...}, ...], each element an object of edit
// fields.
func (r *resource) editList(a *hcl.Attribute) ([]lineedit.Edit, bool) {
	v, diags := r.evalAttr(a)
	r.sc.c.diags = append(r.sc.c.diags, diags...)
	if diags.HasErrors() || !v.IsWhollyKnown() {
		return nil, false
	}
	rng := a.Expr.Range()
	if v.IsNull() || !(v.Type().IsListType() || v.Type().IsTupleType()) {
		r.diag(errorf(&rng, "Invalid edits", "edits takes a list of objects, such as [{ line = \"PermitRootLogin no\", regexp = \"^#?PermitRootLogin\" }], not %s.", v.Type().FriendlyName()))
		return nil, false
	}
	elems, _ := hcl.ExprList(a.Expr)
	var out []lineedit.Edit
	ok := true
	for i, it := 0, v.ElementIterator(); it.Next(); i++ {
		_, ev := it.Element()
		erng := rng
		if i < len(elems) {
			erng = elems[i].Range()
		}
		if !ev.Type().IsObjectType() && !ev.Type().IsMapType() {
			r.diag(errorf(&erng, "Invalid edits", "Element %d of edits is %s; each edit is an object such as { line = \"...\", regexp = \"...\" }.", i+1, ev.Type().FriendlyName()))
			ok = false
			continue
		}
		var names []string
		for k := range ev.AsValueMap() {
			if !slices.Contains(editFields, k) {
				names = append(names, k)
			}
		}
		if len(names) > 0 {
			sort.Strings(names)
			r.diag(errorf(&erng, "Invalid edits", "Element %d of edits has %s, which an edit does not take (it takes %s).%s",
				i+1, strings.Join(names, ", "), strings.Join(editFields, ", "), suggest(names[0], editFields)))
			ok = false
			continue
		}
		m := ev.AsValueMap()
		e, good := r.editOf(func(name string) (cty.Value, hcl.Range, bool) {
			f, has := m[name]
			return f, erng, has
		}, erng)
		if !good {
			ok = false
			continue
		}
		out = append(out, e)
	}
	return out, ok
}

// editOf reads one edit through get (a field's value, where it is, and
// whether it is given) and checks it, reporting problems at at.
func (r *resource) editOf(get func(string) (cty.Value, hcl.Range, bool), at hcl.Range) (lineedit.Edit, bool) {
	var e lineedit.Edit
	ok := true
	for _, f := range []struct {
		name string
		dst  *string
	}{{"line", &e.Line}, {"regexp", &e.Regexp}, {"after", &e.After}, {"before", &e.Before}} {
		v, rng, given := get(f.name)
		if !given || v == cty.NilVal || v.IsNull() {
			continue
		}
		s, good := primitiveString(v)
		if !good {
			r.diag(errorf(&rng, "Invalid value for "+f.name, "%s takes a string, not %s.", f.name, v.Type().FriendlyName()))
			ok = false
			continue
		}
		*f.dst = s
	}
	if v, rng, given := get("absent"); given && v != cty.NilVal && !v.IsNull() {
		absent, good := r.boolOf(v, rng, "Invalid value for absent", "absent")
		e.Absent, ok = absent, ok && good
	}
	if !ok {
		return e, false
	}
	if err := e.Check(); err != nil {
		r.diag(errorf(&at, "Invalid edit", "This edit is not valid: %s.", err))
		return e, false
	}
	return e, true
}

// buildAttrs turns a file block without content into an ATTRS step: only
// the mode, owner and group it gives are managed (no defaults), on a file
// that must be there already.
func buildAttrs(r *resource, st *stepfmt.Step) {
	st.Kind = stepfmt.KindAttrs
	kept := st.Attrs[:0]
	for _, a := range st.Attrs {
		if _, given := r.attrs[a.Key]; given && a.Key != "validate" {
			kept = append(kept, a)
		}
	}
	st.Attrs = kept
	for _, n := range []string{"validate", "vars"} {
		if a, ok := r.attrs[n]; ok {
			r.diag(errorf(a.NameRange.Ptr(), fmt.Sprintf("%s without content", n),
				"This file block has no content, source or template: it manages only the mode, owner and group of a file that is there, so there is nothing for %s to act on.", n))
		}
	}
}
