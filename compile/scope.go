package compile

import (
	"fmt"
	"sort"

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
// Options.Vars (the root, args nil), evaluates their defaults and its
// locals (values.go) and builds the evaluation context.
func (c *compiler) newScope(mod *module, parent *scope, addr string, args map[string]argument, call *hcl.Block) *scope {
	sc := &scope{c: c, mod: mod, parent: parent, addr: addr, decls: map[string]*decl{}}
	if parent != nil {
		sc.depth = parent.depth + 1
	}
	sc.ctx = c.hostCtx.NewChild()
	sc.ctx.Variables = map[string]cty.Value{"path": pathValue(mod.dir)}
	vars, defaults := sc.variables(args, call)
	sc.values(vars, defaults)
	return sc
}

// variables evaluates the variable blocks of the module but for the
// defaults, which may refer to other variables and locals: those are
// returned to be evaluated in dependency order.
func (sc *scope) variables(args map[string]argument, call *hcl.Block) (map[string]cty.Value, map[string]*varDefault) {
	c := sc.c
	vals := map[string]cty.Value{}
	defaults := map[string]*varDefault{}
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
		vals[name], defaults[name] = sc.variable(b, name, args, call)
		if defaults[name] == nil {
			delete(defaults, name)
		}
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
	return vals, defaults
}

// varDefault is a variable whose value is its default expression.
type varDefault struct {
	name     string
	attr     *hcl.Attribute
	ty       cty.Type
	defaults *typeexpr.Defaults
}

// variable evaluates one variable block: its type, then the argument or
// override; else it returns the default, to be evaluated later.
func (sc *scope) variable(b *hcl.Block, name string, args map[string]argument, call *hcl.Block) (cty.Value, *varDefault) {
	c := sc.c
	content, diags := b.Body.Content(variableSchema)
	c.diags = append(c.diags, diags...)
	ty := cty.DynamicPseudoType
	var defaults *typeexpr.Defaults
	if attr, ok := content.Attributes["type"]; ok {
		t, d, diags := typeexpr.TypeConstraintWithDefaults(attr.Expr)
		c.diags = append(c.diags, diags...)
		if diags.HasErrors() {
			return cty.DynamicVal, nil
		}
		ty, defaults = t, d
	}
	val, rng, found := cty.NilVal, b.DefRange, false
	if a, ok := args[name]; ok {
		val, rng, found = a.val, a.rng, true
	} else if raw, ok := c.opts.Vars[name]; ok && sc.parent == nil {
		val, found = c.override(name, raw, ty)
	} else if attr, ok := content.Attributes["default"]; ok {
		return cty.DynamicVal, &varDefault{name: name, attr: attr, ty: ty, defaults: defaults}
	} else {
		where := "pass it with --var " + name + "=..."
		if call != nil {
			where = fmt.Sprintf("pass %s = ... in the module block", name)
			c.diags = append(c.diags, errorf(call.DefRange.Ptr(), "Missing module argument",
				"Module %q needs variable %q (declared at %s), which has no default: %s.", sc.mod.dir, name, at(b.DefRange), where))
			return cty.DynamicVal, nil
		}
		c.diags = append(c.diags, errorf(b.DefRange.Ptr(), "Variable without a value",
			"Variable %q has no default and no value was given: add default = ... or %s.", name, where))
		return cty.DynamicVal, nil
	}
	if !found {
		return cty.DynamicVal, nil
	}
	return sc.convertVar(name, val, ty, defaults, rng), nil
}

// convertVar applies a variable's type (and its optional() defaults) to a
// value given or evaluated at rng.
func (sc *scope) convertVar(name string, val cty.Value, ty cty.Type, defaults *typeexpr.Defaults, rng hcl.Range) cty.Value {
	if defaults != nil {
		val = defaults.Apply(val)
	}
	conv, err := convert.Convert(val, ty)
	if err != nil {
		sc.c.diags = append(sc.c.diags, errorf(rng.Ptr(), "Invalid value for variable",
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
