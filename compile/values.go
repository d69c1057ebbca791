package compile

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// valueNode is a named expression of a scope: a variable's default or a
// local. Either may refer to variables and locals of the same scope, so
// they are evaluated together, in dependency order.
type valueNode struct {
	addr string // var.x or local.y
	rng  hcl.Range
	expr hcl.Expression
	def  *varDefault // for a variable
}

// values evaluates the variable defaults and locals of the scope in
// dependency order and puts var and local into its context. vars holds
// the variables already known (given, or broken); a reference cycle is an
// error that names every place in it.
func (sc *scope) values(vars map[string]cty.Value, defaults map[string]*varDefault) {
	c := sc.c
	nodes := map[string]*valueNode{}
	for name, d := range defaults {
		nodes["var."+name] = &valueNode{addr: "var." + name, rng: d.attr.NameRange, expr: d.attr.Expr, def: d}
	}
	for name, a := range sc.localAttrs() {
		nodes["local."+name] = &valueNode{addr: "local." + name, rng: a.NameRange, expr: a.Expr}
	}
	locals := map[string]cty.Value{}
	// objects gives every declared name a value, unknown until evaluated,
	// so that reference checks know them all.
	objects := func() (cty.Value, cty.Value) {
		v := make(map[string]cty.Value, len(vars)+len(defaults))
		for name, val := range vars {
			v[name] = val
		}
		l := map[string]cty.Value{}
		for addr := range nodes {
			if name, ok := strings.CutPrefix(addr, "local."); ok {
				l[name] = cty.DynamicVal
				if val, ok := locals[name]; ok {
					l[name] = val
				}
			}
		}
		return cty.ObjectVal(v), cty.ObjectVal(l)
	}
	state := map[string]int{} // 1 visiting, 2 done
	var stack []*valueNode
	var visit func(n *valueNode)
	visit = func(n *valueNode) {
		switch state[n.addr] {
		case 2:
			return
		case 1:
			sc.valueCycle(stack, n)
			return
		}
		state[n.addr] = 1
		stack = append(stack, n)
		for _, tr := range n.expr.Variables() {
			if dep := nodes[refAddr(tr)]; dep != nil {
				visit(dep)
			}
		}
		stack = stack[:len(stack)-1]
		state[n.addr] = 2
		ctx := sc.ctx.NewChild()
		varObj, localObj := objects()
		ctx.Variables = map[string]cty.Value{"var": varObj, "local": localObj}
		v, diags := sc.eval(n.expr, ctx)
		c.diags = append(c.diags, diags...)
		if diags.HasErrors() {
			v = cty.DynamicVal
		}
		if d := n.def; d != nil {
			if !diags.HasErrors() {
				v = sc.convertVar(d.name, v, d.ty, d.defaults, n.expr.Range())
			}
			vars[d.name] = v
		} else {
			locals[strings.TrimPrefix(n.addr, "local.")] = v
		}
	}
	for _, name := range sortedKeys(defaults) {
		visit(nodes["var."+name])
	}
	for _, addr := range sortedKeys(nodes) {
		visit(nodes[addr])
	}
	sc.ctx.Variables["var"], sc.ctx.Variables["local"] = objects()
}

// valueCycle reports the cycle that the stack closes at n. Its members
// are then evaluated with n unknown, which yields unknown values and no
// further diagnostics.
func (sc *scope) valueCycle(stack []*valueNode, n *valueNode) {
	i := len(stack) - 1
	for i > 0 && stack[i] != n {
		i--
	}
	var parts []string
	onlyLocals := true
	for _, m := range append(stack[i:], n) {
		parts = append(parts, fmt.Sprintf("%s (%s)", m.addr, at(m.rng)))
		onlyLocals = onlyLocals && m.def == nil
	}
	summary, what := "Cycle in locals", "locals"
	if !onlyLocals {
		summary, what = "Cycle in variable defaults", "variable defaults and locals"
	}
	detail := fmt.Sprintf("These %s refer to each other: %s. Break the cycle.", what, strings.Join(parts, " → "))
	if len(parts) == 2 {
		detail = fmt.Sprintf("%s refers to itself. Break the cycle.", parts[0])
	}
	sc.c.diags = append(sc.c.diags, errorf(n.rng.Ptr(), summary, "%s", detail))
}

// refAddr is var.x or local.y for a traversal that starts so, else "".
func refAddr(tr hcl.Traversal) string {
	if root := tr.RootName(); (root == "var" || root == "local") && len(tr) >= 2 {
		if a, ok := tr[1].(hcl.TraverseAttr); ok {
			return root + "." + a.Name
		}
	}
	return ""
}

// localAttrs collects the attributes of the module's locals blocks,
// reporting duplicates.
func (sc *scope) localAttrs() map[string]*hcl.Attribute {
	attrs := map[string]*hcl.Attribute{}
	for _, b := range sc.mod.blocks {
		if b.Type != "locals" {
			continue
		}
		as, diags := b.Body.JustAttributes()
		sc.c.diags = append(sc.c.diags, diags...)
		for _, name := range sortedAttrNames(as) {
			a := as[name]
			if first, dup := attrs[name]; dup {
				sc.c.diags = append(sc.c.diags, errorf(a.NameRange.Ptr(), "Duplicate local",
					"local.%s is defined here and at %s; each local is defined once.", name, at(first.NameRange)))
				continue
			}
			attrs[name] = a
		}
	}
	return attrs
}
