package compile

import (
	"fmt"

	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// eval checks the references of expr (naming the closest known name for a
// typo), then evaluates it. An unknown result means an earlier error
// poisoned an input; callers skip such values without a new diagnostic.
func (sc *scope) eval(expr hcl.Expression, ctx *hcl.EvalContext) (cty.Value, hcl.Diagnostics) {
	return sc.c.evalIn(expr, ctx)
}

// evalIn is evalExpr for a context under hostCtx: the facts expr uses are
// read first, and one that is not known is an error at its reference.
func (c *compiler) evalIn(expr hcl.Expression, ctx *hcl.EvalContext) (cty.Value, hcl.Diagnostics) {
	if diags := c.needFacts(expr, ctx); diags.HasErrors() {
		return cty.DynamicVal, diags
	}
	v, diags := evalExpr(expr, ctx)
	return v, hoistTemplateErrors(diags)
}

// evalExpr is eval for any context. Names are checked here rather than by
// HCL because HCL picks its suggestions in map order, and diagnostics must
// repeat exactly from run to run.
func evalExpr(expr hcl.Expression, ctx *hcl.EvalContext) (cty.Value, hcl.Diagnostics) {
	diags := checkRefs(expr, ctx)
	diags = append(diags, checkCalls(expr, ctx)...)
	if diags.HasErrors() {
		return cty.DynamicVal, diags
	}
	v, diags := expr.Value(ctx)
	v, _ = v.UnmarkDeep()
	return v, diags
}

// checkCalls reports calls of functions that do not exist.
func checkCalls(expr hcl.Expression, ctx *hcl.EvalContext) hcl.Diagnostics {
	node, ok := expr.(hclsyntax.Node)
	if !ok {
		return nil
	}
	var diags hcl.Diagnostics
	hclsyntax.VisitAll(node, func(n hclsyntax.Node) hcl.Diagnostics {
		call, ok := n.(*hclsyntax.FunctionCallExpr)
		if !ok {
			return nil
		}
		var names []string
		for c := ctx; c != nil; c = c.Parent() {
			if _, ok := c.Functions[call.Name]; ok {
				return nil
			}
			for name := range c.Functions {
				names = append(names, name)
			}
		}
		diags = append(diags, errorf(call.NameRange.Ptr(), "Call to unknown function",
			"There is no function named %q.%s", call.Name, suggest(call.Name, names)))
		return nil
	})
	return diags
}

// lookupVar finds a root variable in ctx or its parents.
func lookupVar(ctx *hcl.EvalContext, name string) (cty.Value, bool) {
	for ; ctx != nil; ctx = ctx.Parent() {
		if v, ok := ctx.Variables[name]; ok {
			return v, true
		}
	}
	return cty.NilVal, false
}

var refNouns = map[string]string{
	"var": "variable", "local": "local", "host": "fact", "path": "path value", "each": "each value",
}

// checkRefs reports references to names that do not exist, with a
// suggestion, and explains the roots people reach for by mistake.
func checkRefs(expr hcl.Expression, ctx *hcl.EvalContext) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, tr := range expr.Variables() {
		root := tr.RootName()
		rng := tr.SourceRange()
		v, ok := lookupVar(ctx, root)
		if !ok {
			switch {
			default:
				var names []string
				for c := ctx; c != nil; c = c.Parent() {
					for name := range c.Variables {
						names = append(names, name)
					}
				}
				diags = append(diags, errorf(&rng, "Unknown variable",
					"There is no variable named %q.%s", root, suggest(root, names)))
			case root == "each":
				diags = append(diags, errorf(&rng, "each outside for_each",
					"each.key and each.value exist only inside a block that has for_each."))
			case resourceTypes[root] || root == "module":
				ref := tr
				if len(ref) > 2 {
					ref = ref[:2]
				}
				diags = append(diags, errorf(&rng, "Resources cannot be read in expressions",
					"%s names a resource; expressions see var, local, host, path and each. "+
						"To order after it, write depends_on = [%s]; a unit's restart_on takes such references too.",
					traversalString(tr), traversalString(ref)))
			}
			continue
		}
		if len(tr) < 2 || !v.Type().IsObjectType() {
			continue
		}
		attr, ok := tr[1].(hcl.TraverseAttr)
		if !ok || v.Type().HasAttribute(attr.Name) {
			continue
		}
		var known []string
		for name := range v.Type().AttributeTypes() {
			known = append(known, name)
		}
		noun := refNouns[root]
		if noun == "" {
			noun = "attribute"
		}
		detail := fmt.Sprintf("There is no %s %s.%s.%s", noun, root, attr.Name, suggest(attr.Name, known))
		if root == "var" {
			detail = fmt.Sprintf("No variable %q is declared in this module: declare it with a variable %q block.%s",
				attr.Name, attr.Name, suggest(attr.Name, known))
		}
		diags = append(diags, errorf(&rng, "Unknown "+noun, "%s", detail))
	}
	return diags
}

// traversalString renders a traversal as it is written: a.b["c"].
func traversalString(tr hcl.Traversal) string {
	s := ""
	for _, step := range tr {
		switch t := step.(type) {
		case hcl.TraverseRoot:
			s += t.Name
		case hcl.TraverseAttr:
			s += "." + t.Name
		case hcl.TraverseIndex:
			if k, ok := primitiveString(t.Key); ok {
				s += fmt.Sprintf("[%q]", k)
			} else {
				s += "[?]"
			}
		default:
			s += "[*]"
		}
	}
	return s
}

// primitiveString renders a known string, number or bool as a string; a
// whole number is written without a fraction.
func primitiveString(v cty.Value) (string, bool) {
	v, _ = v.UnmarkDeep()
	if v.IsNull() || !v.IsKnown() || !v.Type().IsPrimitiveType() {
		return "", false
	}
	if v.Type() == cty.Number {
		f := v.AsBigFloat()
		if f.IsInt() && !f.IsInf() && f.MantExp(nil) <= 1024 {
			i, _ := f.Int(nil)
			return i.String(), true
		}
		return f.Text('g', -1), true
	}
	s, err := convert.Convert(v, cty.String)
	if err != nil {
		return "", false
	}
	return s.AsString(), true
}

// needFacts reads the pending facts expr refers to (all of them for host
// itself) and reports those that are not known, at the reference.
func (c *compiler) needFacts(expr hcl.Expression, ctx *hcl.EvalContext) hcl.Diagnostics {
	var diags hcl.Diagnostics
	loaded := false
	for _, tr := range expr.Variables() {
		if tr.RootName() != "host" || !c.seesFacts(ctx) {
			continue
		}
		names := factNames
		if len(tr) > 1 {
			switch t := tr[1].(type) {
			case hcl.TraverseAttr:
				names = []string{t.Name}
			case hcl.TraverseIndex:
				if t.Key.Type() == cty.String && t.Key.IsKnown() {
					names = []string{t.Key.AsString()}
				}
			}
		}
		for _, n := range names {
			if c.facts.pending[n] {
				c.facts.Load(n)
				loaded = true
			}
			if why, ok := c.facts.Unknown[n]; ok {
				rng := tr.SourceRange()
				diags = append(diags, errorf(&rng, "Unknown fact",
					"host.%s is not known for this host: %s. Give its value: --fact %s=VALUE to trail validate, git config trail.fact.%s VALUE on the host.",
					n, why, n, n))
			}
		}
	}
	if loaded {
		c.hostCtx.Variables["host"] = c.facts.Value()
	}
	return diags
}

// seesFacts reports whether host in ctx is the facts, not a template
// variable that shadows them.
func (c *compiler) seesFacts(ctx *hcl.EvalContext) bool {
	for ; ctx != nil; ctx = ctx.Parent() {
		if ctx == c.hostCtx {
			return true
		}
		if _, ok := ctx.Variables["host"]; ok {
			return false
		}
	}
	return false
}
