package compile

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// scope is one instance of a module (the root, or one module call or
// for_each instance of it): its variables, locals and declarations.
type scope struct {
	c      *compiler
	mod    *module
	parent *scope
	addr   string // "" for the root, else module.name or module.name["key"]
	ctx    *hcl.EvalContext
	decls  map[string]*decl // "file.motd", "module.web", ...
	// callDeps is the depends_on of the module call that made this scope,
	// resolved in the parent scope.
	callDeps hcl.Expression
	depth    int
}

// decl is one declared resource or module name in a scope, active or not.
type decl struct {
	typ, name string
	rng       hcl.Range
	// keys are the for_each keys once evaluated; nil when the block has no
	// for_each or was not evaluated on this host.
	keys      map[string]bool
	instances []*resource // active resource instances
	scopes    []*scope    // active module instances
}

// argument is a value passed to a module variable.
type argument struct {
	val cty.Value
	rng hcl.Range
}

// maxModuleDepth bounds module nesting.
const maxModuleDepth = 16

// newScope declares the variables of mod from args (module calls) or
// Options.Vars (the root, args nil), evaluates its locals and builds the
// evaluation context.
func (c *compiler) newScope(mod *module, parent *scope, addr string, args map[string]argument, call *hcl.Block) *scope {
	sc := &scope{c: c, mod: mod, parent: parent, addr: addr, decls: map[string]*decl{}}
	if parent != nil {
		sc.depth = parent.depth + 1
	}
	vars := sc.variables(args, call)
	sc.ctx = &hcl.EvalContext{
		Variables: map[string]cty.Value{
			"var":  cty.ObjectVal(vars),
			"host": c.host,
			"path": pathValue(mod.dir),
		},
		Functions: c.funcs,
	}
	sc.ctx.Variables["local"] = cty.ObjectVal(sc.locals())
	return sc
}

// variables evaluates the variable blocks of the module.
func (sc *scope) variables(args map[string]argument, call *hcl.Block) map[string]cty.Value {
	c := sc.c
	vals := map[string]cty.Value{}
	seen := map[string]hcl.Range{}
	for _, b := range sc.mod.blocks {
		if b.Type != "variable" {
			continue
		}
		name := b.Labels[0]
		if first, dup := seen[name]; dup {
			c.diags = append(c.diags, errorf(b.DefRange.Ptr(), "Duplicate variable",
				"Variable %q is declared here and at %s; each variable is declared once.", name, at(first)))
			continue
		}
		seen[name] = b.DefRange
		if !hclsyntax.ValidIdentifier(name) {
			c.diags = append(c.diags, errorf(b.LabelRanges[0].Ptr(), "Invalid variable name",
				"%q is not a valid name: use letters, digits, _ and -, starting with a letter.", name))
			continue
		}
		vals[name] = sc.variable(b, name, args, call)
	}
	var unknown []string
	for name := range args {
		if _, ok := seen[name]; !ok {
			unknown = append(unknown, name)
		}
	}
	if sc.parent == nil && !c.unparsed {
		for name := range c.opts.Vars {
			if _, ok := seen[name]; !ok {
				unknown = append(unknown, name)
			}
		}
	}
	sort.Strings(unknown)
	known := sortedKeys(seen)
	for _, name := range unknown {
		if a, ok := args[name]; ok {
			c.diags = append(c.diags, errorf(a.rng.Ptr(), "Unknown module argument",
				"Module %q declares no variable %q.%s", sc.mod.dir, name, suggest(name, known)))
			continue
		}
		if c.opts.HostVars {
			c.diags = append(c.diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Undeclared host variable",
				Detail: fmt.Sprintf("This host sets trail.var.%s, but the config declares no variable %q: the value is not used.%s", name, name, suggest(name, known))})
			continue
		}
		c.diags = append(c.diags, errorf(nil, "Unknown variable override",
			"A value was given for variable %q, but the config declares no such variable.%s", name, suggest(name, known)))
	}
	return vals
}

// variable evaluates one variable block: its type, then the argument or
// override, else the default.
func (sc *scope) variable(b *hcl.Block, name string, args map[string]argument, call *hcl.Block) cty.Value {
	c := sc.c
	content, diags := b.Body.Content(variableSchema)
	c.diags = append(c.diags, diags...)
	ty := cty.DynamicPseudoType
	var defaults *typeexpr.Defaults
	if attr, ok := content.Attributes["type"]; ok {
		t, d, diags := typeexpr.TypeConstraintWithDefaults(attr.Expr)
		c.diags = append(c.diags, diags...)
		if diags.HasErrors() {
			return cty.DynamicVal
		}
		ty, defaults = t, d
	}
	val, rng, found := cty.NilVal, b.DefRange, false
	if a, ok := args[name]; ok {
		val, rng, found = a.val, a.rng, true
	} else if raw, ok := c.opts.Vars[name]; ok && sc.parent == nil {
		val, found = c.override(name, raw, ty)
	} else if attr, ok := content.Attributes["default"]; ok {
		v, diags := evalExpr(attr.Expr, &hcl.EvalContext{Functions: c.funcs,
			Variables: map[string]cty.Value{"host": c.host}})
		c.diags = append(c.diags, diags...)
		val, rng, found = v, attr.Expr.Range(), !diags.HasErrors()
		if diags.HasErrors() {
			return cty.DynamicVal
		}
	} else {
		where := "pass it with --var " + name + "=..."
		if call != nil {
			where = fmt.Sprintf("pass %s = ... in the module block", name)
			c.diags = append(c.diags, errorf(call.DefRange.Ptr(), "Missing module argument",
				"Module %q needs variable %q (declared at %s), which has no default: %s.", sc.mod.dir, name, at(b.DefRange), where))
			return cty.DynamicVal
		}
		c.diags = append(c.diags, errorf(b.DefRange.Ptr(), "Variable without a value",
			"Variable %q has no default and no value was given: add default = ... or %s.", name, where))
		return cty.DynamicVal
	}
	if !found {
		return cty.DynamicVal
	}
	if defaults != nil {
		val = defaults.Apply(val)
	}
	conv, err := convert.Convert(val, ty)
	if err != nil {
		c.diags = append(c.diags, errorf(rng.Ptr(), "Invalid value for variable",
			"Variable %q wants %s: %s.", name, typeexpr.TypeString(ty), err))
		return cty.DynamicVal
	}
	return conv
}

// override reads a --var value: raw for strings, an HCL expression else.
func (c *compiler) override(name, raw string, ty cty.Type) (cty.Value, bool) {
	if ty == cty.String {
		return cty.StringVal(raw), true
	}
	var expr hclsyntax.Expression
	var diags hcl.Diagnostics
	if d := prescan("--var "+name, []byte(raw), false); d != nil {
		diags = hcl.Diagnostics{d}
	} else {
		expr, diags = hclsyntax.ParseExpression([]byte(raw), "--var "+name, hcl.InitialPos)
	}
	if !diags.HasErrors() {
		var d hcl.Diagnostics
		v, d := evalExpr(expr, &hcl.EvalContext{Functions: c.funcs})
		if !d.HasErrors() {
			return v, true
		}
		diags = d
	}
	if ty == cty.DynamicPseudoType {
		return cty.StringVal(raw), true
	}
	c.diags = append(c.diags, errorf(nil, "Invalid variable override",
		"The value given for variable %q is not valid HCL for type %s: %s.", name, typeexpr.TypeString(ty), diags.Error()))
	return cty.NilVal, false
}

// locals evaluates every locals attribute of the module in dependency
// order; a reference cycle is an error naming the cycle.
func (sc *scope) locals() map[string]cty.Value {
	c := sc.c
	attrs := map[string]*hcl.Attribute{}
	for _, b := range sc.mod.blocks {
		if b.Type != "locals" {
			continue
		}
		as, diags := b.Body.JustAttributes()
		c.diags = append(c.diags, diags...)
		for _, name := range sortedAttrNames(as) {
			a := as[name]
			if first, dup := attrs[name]; dup {
				c.diags = append(c.diags, errorf(a.NameRange.Ptr(), "Duplicate local",
					"local.%s is defined here and at %s; each local is defined once.", name, at(first.NameRange)))
				continue
			}
			attrs[name] = a
		}
	}
	vals := make(map[string]cty.Value, len(attrs))
	state := map[string]int{} // 1 visiting, 2 done
	var stack []string
	var visit func(name string)
	visit = func(name string) {
		switch state[name] {
		case 2:
			return
		case 1:
			sc.localCycle(stack, name, attrs)
			vals[name] = cty.DynamicVal
			return
		}
		state[name] = 1
		stack = append(stack, name)
		a := attrs[name]
		for _, tr := range a.Expr.Variables() {
			if dep, ok := localRef(tr); ok && attrs[dep] != nil {
				visit(dep)
			}
		}
		ctx := sc.ctx.NewChild()
		ctx.Variables = map[string]cty.Value{"local": cty.ObjectVal(copyVals(vals, attrs))}
		if _, done := vals[name]; !done {
			v, diags := sc.eval(a.Expr, ctx)
			c.diags = append(c.diags, diags...)
			if diags.HasErrors() {
				v = cty.DynamicVal
			}
			vals[name] = v
		}
		stack = stack[:len(stack)-1]
		state[name] = 2
	}
	for _, name := range sortedAttrNames(attrs) {
		visit(name)
	}
	return vals
}

// copyVals gives locals not yet evaluated a placeholder, so that reference
// checks know every declared local.
func copyVals(vals map[string]cty.Value, attrs map[string]*hcl.Attribute) map[string]cty.Value {
	out := make(map[string]cty.Value, len(attrs))
	for name := range attrs {
		if v, ok := vals[name]; ok {
			out[name] = v
		} else {
			out[name] = cty.DynamicVal
		}
	}
	return out
}

func (sc *scope) localCycle(stack []string, name string, attrs map[string]*hcl.Attribute) {
	i := len(stack) - 1
	for i > 0 && stack[i] != name {
		i--
	}
	var parts []string
	for _, n := range append(stack[i:], name) {
		parts = append(parts, fmt.Sprintf("local.%s (%s)", n, at(attrs[n].NameRange)))
	}
	sc.c.diags = append(sc.c.diags, errorf(attrs[name].NameRange.Ptr(), "Cycle in locals",
		"These locals refer to each other: %s. Break the cycle.", strings.Join(parts, " → ")))
}

func localRef(tr hcl.Traversal) (string, bool) {
	if tr.RootName() != "local" || len(tr) < 2 {
		return "", false
	}
	a, ok := tr[1].(hcl.TraverseAttr)
	return a.Name, ok
}

func sortedAttrNames(as hcl.Attributes) []string {
	out := make([]string, 0, len(as))
	for n := range as {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
