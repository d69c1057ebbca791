package compile

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// boolOf converts v to a bool as HCL converts an argument of type bool,
// by go-cty's conversion: a bool, or the string "true" or "false" (or
// "1" or "0", as a when condition takes them). Anything else is reported
// at rng, under title, as name taking true or false, naming the value
// when it is a scalar (a number unquoted, as the number 1 is not "1").
func (r *resource) boolOf(v cty.Value, rng hcl.Range, title, name string) (bool, bool) {
	v, _ = v.UnmarkDeep()
	if b, err := convert.Convert(v, cty.Bool); err == nil && b.IsKnown() && !b.IsNull() {
		return b.True(), true
	}
	detail := name + " takes true or false."
	switch s, ok := primitiveString(v); {
	case ok && v.Type() == cty.Number:
		// not quoted: the string "1" is a bool, the number 1 is not
		detail = fmt.Sprintf("%s takes true or false, not the number %s.", name, s)
	case ok:
		detail = fmt.Sprintf("%s takes true or false, not %q.", name, s)
	}
	r.diag(errorf(&rng, title, "%s", detail))
	return false, false
}

// boolAttr evaluates attribute name as a bool (boolOf). given is false
// when it is not there, null, or does not evaluate (reported); good is
// false when it is not a bool (reported).
func (r *resource) boolAttr(name, title string) (val, given, good bool) {
	a, ok := r.attrs[name]
	if !ok {
		return false, false, false
	}
	v, diags := r.evalAttr(a)
	r.sc.c.diags = append(r.sc.c.diags, diags...)
	if diags.HasErrors() || !v.IsWhollyKnown() || v.IsNull() {
		return false, false, false
	}
	val, good = r.boolOf(v, a.Expr.Range(), title, name)
	return val, true, good
}
