package compile

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// evaluated is an attribute's value and the diagnostics of evaluating it,
// kept so that each attribute of a resource is evaluated once.
type evaluated struct {
	name  string
	v     cty.Value
	diags hcl.Diagnostics
}

// readAttrs evaluates a resource's attributes before anything reads them,
// so that every block means the same by null: an attribute whose value is
// null is not given. It leaves r.attrs, which defaults and presence checks
// read, so its default applies; a required one is an error at it
// (requireNotNull). Meta attributes and trigger lists, whose elements
// name blocks rather than hold values, are left to their readers.
func (r *resource) readAttrs() {
	shared := true
	for name, a := range r.attrs {
		if slices.Contains(metaAttrs, name) || isTriggerList(name, a) {
			continue
		}
		v, diags := r.sc.eval(a.Expr, r.ctx)
		if r.vals == nil {
			r.vals = make([]evaluated, 0, len(r.attrs))
		}
		r.vals = append(r.vals, evaluated{name, v, diags})
		if diags.HasErrors() || !v.IsNull() {
			continue
		}
		if shared { // the instances of a for_each share one map
			r.attrs, shared = maps.Clone(r.attrs), false
			r.nulls = map[string]*hcl.Attribute{}
		}
		delete(r.attrs, name)
		r.nulls[name] = a
	}
	for _, name := range required[r.kd.block] {
		r.requireNotNull(name)
	}
}

// evalAttr is the value of one of r's attributes, evaluated once.
func (r *resource) evalAttr(a *hcl.Attribute) (cty.Value, hcl.Diagnostics) {
	for _, e := range r.vals {
		if e.name == a.Name {
			return e.v, e.diags
		}
	}
	return r.sc.eval(a.Expr, r.ctx)
}

// isTriggerList reports a unit's restart_on or reload_on written as a
// list, whose elements may name blocks; a computed one is a value.
func isTriggerList(name string, a *hcl.Attribute) bool {
	if name != "restart_on" && name != "reload_on" {
		return false
	}
	_, diags := hcl.ExprList(a.Expr)
	return !diags.HasErrors()
}

// requireNotNull reports a required attribute whose value is null.
func (r *resource) requireNotNull(name string) {
	r.nullError(name, name+" is required and must not be null")
}

// nullError reports an attribute that is null where a value is needed
// (why): it names what the null came from, and says that when, not null,
// leaves a block out.
func (r *resource) nullError(name, why string) {
	a, ok := r.nulls[name]
	if !ok {
		return
	}
	from := ""
	var refs []string
	for _, tr := range a.Expr.Variables() {
		if s := traversalString(tr); !slices.Contains(refs, s) {
			refs = append(refs, s)
		}
	}
	if len(refs) > 0 {
		from = " (it comes from " + strings.Join(refs, ", ") + ")"
	}
	rng := a.Expr.Range()
	r.diag(errorf(&rng, "Null "+name,
		"%s, but it is null here%s. Give it a value; to leave the %s out on some hosts, use when = <condition>.",
		why, from, r.kd.block))
}

// noAbsent reports absent on a block type that does not take it, once,
// saying what to do instead, and reports whether it did: the block is
// then not decoded, so that the missing attributes absent seemed to
// excuse are not reported as well.
func (sc *scope) noAbsent(kd *kindDef, b *hcl.Block) bool {
	if slices.ContainsFunc(kd.schema.Attributes, func(s hcl.AttributeSchema) bool { return s.Name == "absent" }) {
		return false
	}
	content, _, _ := b.Body.PartialContent(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "absent"}}})
	a, ok := content.Attributes["absent"]
	if !ok {
		return false
	}
	label := b.Labels[0]
	var instead string
	switch kd.block {
	case "cron":
		instead = fmt.Sprintf("remove the block, and the file it wrote goes with it; to remove a cron job trail did not write, manage its file: file %q { absent = true }", "/etc/cron.d/"+label)
	case "sysctl":
		instead = "remove the block: its file goes and the kernel gets back the value it had; to remove a sysctl.d file trail did not write, manage it: file \"/etc/sysctl.d/NAME.conf\" { absent = true }"
	case "kernel_module":
		instead = fmt.Sprintf("remove the block: its files go and a module it loaded is unloaded; to remove a file trail did not write, manage it: file %q { absent = true }", "/etc/modules-load.d/"+label+".conf")
	case "apt_source":
		instead = fmt.Sprintf("remove the block, and its file goes; to remove a source trail did not write, manage its file: file %q { absent = true } (or its .list)", aptSourcesDir+label+".sources")
	case "tree":
		instead = "remove the block, and what it wrote goes; to remove a directory trail did not make, manage it: directory \"PATH\" { absent = true, recursive = true }"
	case "command":
		instead = "remove the block, and its undo runs"
	default:
		instead = "remove the block (a check makes nothing, so nothing is left)"
	}
	sc.c.diags = append(sc.c.diags, errorf(a.NameRange.Ptr(), kd.block+" has no absent",
		"%s blocks cannot be absent; instead, %s. To keep the block but leave it out on some hosts, use when = <condition>.", kd.block, instead))
	return true
}
