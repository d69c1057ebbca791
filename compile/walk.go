package compile

import (
	"fmt"
	"path"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// instance is one for_each instance of a block; hasKey is false for a
// block without for_each.
type instance struct {
	key    string
	hasKey bool
	each   cty.Value
}

func (in instance) suffix() string {
	if !in.hasKey {
		return ""
	}
	return fmt.Sprintf("[%q]", in.key)
}

// walk declares and instantiates every block of the module.
func (sc *scope) walk() { sc.walkBlocks(sc.mod.blocks, true) }

// walkBlocks handles blocks in order. Blocks under an inactive role are
// still checked against their schema and declared, so that names and
// typos are caught on every host, but nothing in them is evaluated.
func (sc *scope) walkBlocks(blocks []*hcl.Block, active bool) {
	for _, b := range blocks {
		switch b.Type {
		case "variable", "locals":
		case "role":
			content, diags := b.Body.Content(roleSchema)
			sc.c.diags = append(sc.c.diags, diags...)
			sc.walkBlocks(content.Blocks, active && !diags.HasErrors() && sc.roleActive(content))
		case "module":
			sc.moduleCall(b, active)
		default:
			sc.resourceBlock(b, active)
		}
	}
}

// roleActive reports whether the host matches a role's hosts patterns (on
// its host name or FQDN) and its when condition.
func (sc *scope) roleActive(content *hcl.BodyContent) bool {
	c := sc.c
	if a, ok := content.Attributes["hosts"]; ok {
		v, diags := sc.eval(a.Expr, sc.ctx)
		c.diags = append(c.diags, diags...)
		if diags.HasErrors() || !v.IsWhollyKnown() {
			return false
		}
		pats, ok := stringList(v)
		if s, isStr := primitiveString(v); isStr && v.Type() == cty.String {
			pats, ok = []string{s}, true
		}
		if !ok {
			c.diags = append(c.diags, errorf(a.Expr.Range().Ptr(), "Invalid hosts",
				"hosts takes a list of host name patterns, such as [\"web*\", \"db-?.example.org\"]."))
			return false
		}
		match := false
		for _, p := range pats {
			m1, err := path.Match(p, c.facts.Hostname)
			m2, _ := path.Match(p, c.facts.FQDN)
			if err != nil {
				c.diags = append(c.diags, errorf(a.Expr.Range().Ptr(), "Invalid hosts pattern",
					"%q is not a valid pattern (* ? and [a-z] are allowed): %v.", p, err))
				return false
			}
			match = match || m1 || m2
		}
		if !match {
			return false
		}
	}
	if a, ok := content.Attributes["when"]; ok {
		return sc.cond(a.Expr, sc.ctx)
	}
	return true
}

// cond evaluates a when condition.
func (sc *scope) cond(expr hcl.Expression, ctx *hcl.EvalContext) bool {
	v, diags := sc.eval(expr, ctx)
	sc.c.diags = append(sc.c.diags, diags...)
	if diags.HasErrors() || !v.IsWhollyKnown() {
		return false
	}
	b, err := convert.Convert(v, cty.Bool)
	if err != nil || b.IsNull() {
		sc.c.diags = append(sc.c.diags, errorf(expr.Range().Ptr(), "Invalid when",
			"when must be true or false, such as host.debian_major >= 12."))
		return false
	}
	return b.True()
}

// declare records a resource or module name, reporting a duplicate.
func (sc *scope) declare(typ, name string, rng hcl.Range) *decl {
	key := typ + "." + name
	if d, dup := sc.decls[key]; dup {
		noun := "resource"
		if typ == "module" {
			noun = "module"
		}
		sc.c.diags = append(sc.c.diags, errorf(rng.Ptr(), "Duplicate "+noun,
			"%s%s is declared here and at %s; names are unique per block type within a module.", typ, labelAddr(name), at(d.rng)))
		return nil
	}
	d := &decl{typ: typ, name: name, rng: rng}
	sc.decls[key] = d
	return d
}

// instances evaluates a for_each (nil attr: one instance without a key).
func (sc *scope) instances(attr *hcl.Attribute, d *decl) ([]instance, bool) {
	if attr == nil {
		return []instance{{}}, true
	}
	c := sc.c
	v, diags := sc.eval(attr.Expr, sc.ctx)
	c.diags = append(c.diags, diags...)
	if diags.HasErrors() || !v.IsWhollyKnown() {
		return nil, false
	}
	bad := func(detail string) ([]instance, bool) {
		c.diags = append(c.diags, errorf(attr.Expr.Range().Ptr(), "Invalid for_each", "%s", detail))
		return nil, false
	}
	if v.IsNull() {
		return bad("for_each is null: give a map, or a list or set of strings.")
	}
	ty := v.Type()
	var out []instance
	d.keys = map[string]bool{}
	switch {
	case ty.IsMapType() || ty.IsObjectType():
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			out = append(out, instance{key: k.AsString(), hasKey: true, each: eachVal(k.AsString(), e)})
		}
	case ty.IsListType() || ty.IsSetType() || ty.IsTupleType():
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			s, ok := primitiveString(e)
			if !ok {
				return bad("A for_each list holds strings only; for a list of objects, write a map keyed by name, such as { for u in var.users : u.name => u }.")
			}
			if d.keys[s] {
				return bad(fmt.Sprintf("The for_each list has %q twice; each key makes one instance.", s))
			}
			d.keys[s] = true
			out = append(out, instance{key: s, hasKey: true, each: eachVal(s, cty.StringVal(s))})
		}
	default:
		return bad("for_each takes a map, or a list or set of strings, not " + ty.FriendlyName() + ".")
	}
	for _, in := range out {
		d.keys[in.key] = true
	}
	return out, true
}

func eachVal(key string, v cty.Value) cty.Value {
	return cty.ObjectVal(map[string]cty.Value{"key": cty.StringVal(key), "value": v})
}

// instanceCtx returns the context for one instance: with each, if keyed.
func (sc *scope) instanceCtx(in instance) *hcl.EvalContext {
	if !in.hasKey {
		return sc.ctx
	}
	ctx := sc.ctx.NewChild()
	ctx.Variables = map[string]cty.Value{"each": in.each}
	return ctx
}

func joinAddr(prefix, part string) string {
	if prefix == "" {
		return part
	}
	return prefix + "." + part
}

// resourceBlock declares a resource and builds its active instances.
func (sc *scope) resourceBlock(b *hcl.Block, active bool) {
	kd := kindByBlock[b.Type]
	if sc.noAbsent(kd, b) {
		sc.declare(b.Type, b.Labels[0], b.DefRange)
		return
	}
	content, diags := b.Body.Content(kd.schema)
	sc.c.diags = append(sc.c.diags, diags...)
	d := sc.declare(b.Type, b.Labels[0], b.DefRange)
	if d == nil || !active {
		return
	}
	insts, ok := sc.instances(content.Attributes["for_each"], d)
	if !ok {
		return
	}
	for _, in := range insts {
		ctx := sc.instanceCtx(in)
		if w, ok := content.Attributes["when"]; ok && !sc.cond(w.Expr, ctx) {
			continue
		}
		if sc.c.tooMany {
			return
		}
		r := sc.newResource(kd, b, content.Attributes, ctx, in)
		d.instances = append(d.instances, r)
	}
}

// moduleCall declares a module block and instantiates its active instances.
func (sc *scope) moduleCall(b *hcl.Block, active bool) {
	c := sc.c
	attrs, diags := b.Body.JustAttributes()
	c.diags = append(c.diags, diags...)
	d := sc.declare("module", b.Labels[0], b.DefRange)
	if d == nil || !active || diags.HasErrors() {
		return
	}
	src, ok := attrs["source"]
	if !ok {
		c.diags = append(c.diags, errorf(b.DefRange.Ptr(), "Missing source",
			"A module block needs source = \"<directory>\", a directory of the repository holding the module's *.hcl files."))
		return
	}
	v, diags := sc.eval(src.Expr, sc.ctx)
	c.diags = append(c.diags, diags...)
	s, isStr := primitiveString(v)
	dir, err := repoPath(s)
	if diags.HasErrors() || !isStr || err != nil {
		if !diags.HasErrors() {
			c.diags = append(c.diags, errorf(src.Expr.Range().Ptr(), "Invalid module source",
				"source must be a directory of the repository, relative to its root, such as \"modules/web\"%s.", errSuffix(err)))
		}
		return
	}
	var chain []string
	for s := sc; s != nil; s = s.parent {
		chain = append(chain, s.mod.dir)
		if s.mod.dir == dir {
			c.diags = append(c.diags, errorf(src.Expr.Range().Ptr(), "Module calls itself",
				"Module %q is already being instantiated (chain: %s); a module may not call itself.", dir, strings.Join(chain, " ← ")))
			return
		}
	}
	if sc.depth >= maxModuleDepth {
		c.diags = append(c.diags, errorf(b.DefRange.Ptr(), "Modules nested too deep",
			"Modules may nest at most %d deep.", maxModuleDepth))
		return
	}
	mod := c.loadModule(dir, src.Expr.Range().Ptr())
	if mod == nil {
		return
	}
	insts, ok := sc.instances(attrs["for_each"], d)
	if !ok {
		return
	}
	for _, in := range insts {
		ctx := sc.instanceCtx(in)
		if w, ok := attrs["when"]; ok && !sc.cond(w.Expr, ctx) {
			continue
		}
		args := map[string]argument{}
		for _, name := range sortedAttrNames(attrs) {
			if moduleMeta[name] {
				continue
			}
			a := attrs[name]
			v, diags := sc.eval(a.Expr, ctx)
			c.diags = append(c.diags, diags...)
			args[name] = argument{val: v, rng: a.Expr.Range()}
		}
		child := c.newScope(mod, sc, joinAddr(sc.addr, "module."+b.Labels[0]+in.suffix()), args, b)
		if dep, ok := attrs["depends_on"]; ok {
			child.callDeps = dep.Expr
		}
		d.scopes = append(d.scopes, child)
		child.walk()
	}
}

func errSuffix(err error) string {
	if err == nil {
		return ""
	}
	return ": " + err.Error()
}
