package compile

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"trail/stepfmt"
)

// resolveRefs resolves depends_on (a resource's own and those of the
// module calls around it) and unit restart_on and reload_on references, once every
// resource is known.
func (c *compiler) resolveRefs() {
	callDeps := map[*scope][]*resource{}
	for _, r := range c.resources {
		if a, ok := r.attrs["depends_on"]; ok {
			r.deps = append(r.deps, r.sc.resolveList(a.Expr)...)
		}
		for s := r.sc; s.parent != nil; s = s.parent {
			if s.callDeps == nil {
				continue
			}
			deps, ok := callDeps[s]
			if !ok {
				deps = s.parent.resolveList(s.callDeps)
				callDeps[s] = deps
			}
			r.deps = append(r.deps, deps...)
		}
		for _, d := range r.deps {
			if d == r {
				r.diag(errorf(r.block.DefRange.Ptr(), "Resource depends on itself",
					"%s is in its own depends_on (perhaps through its module's depends_on).", r.addr))
			}
		}
		for _, t := range r.triggers {
			r.resolveTriggers(t)
		}
	}
}

// resolveTriggers sets a unit's restart-on or reload-on from the
// literal paths and the steps of the resources referenced. A tree is
// named by its directory, which stands for everything under it: files
// added to the tree or removed from it later count without the list
// changing. A package or command is named package:NAME or command:NAME
// (stepfmt.TriggerOf): its install, upgrade or removal, its run or undo,
// restarts the unit.
func (r *resource) resolveTriggers(t *triggerAttr) {
	if len(r.steps) == 0 {
		return
	}
	name := t.attr.Name
	paths := append([]string(nil), t.lit...)
	for _, tr := range t.refs {
		for _, d := range r.sc.resolveRef(tr) {
			switch d.kd.block {
			case "file", "symlink", "directory", "tree", "edit", "package", "command":
			default:
				rng := tr.SourceRange()
				r.diag(errorf(&rng, "Invalid "+name,
					"%s is a %s; %s takes files, symlinks, directories, trees, edits, packages and commands.", d.addr, d.kd.block, name))
				continue
			}
			if len(d.steps) > 0 {
				w, _ := stepfmt.TriggerOf(d.steps[0].Kind, d.steps[0].Target)
				paths = append(paths, w)
			}
		}
	}
	for _, p := range paths {
		if strings.Contains(p, ",") {
			r.diag(errorf(t.attr.Expr.Range().Ptr(), "Invalid "+name, "Path %q contains a comma, which %s paths may not.", p, name))
			return
		}
	}
	r.set(r.steps[0], strings.ReplaceAll(name, "_", "-"), strings.Join(paths, ","), t.attr.Expr.Range(), name)
}

// resolveList resolves a depends_on list.
func (sc *scope) resolveList(expr hcl.Expression) []*resource {
	elems, diags := hcl.ExprList(expr)
	if diags.HasErrors() {
		sc.c.diags = append(sc.c.diags, errorf(expr.Range().Ptr(), "Invalid depends_on",
			"depends_on takes a list of references, such as [package.nginx, module.web]."))
		return nil
	}
	var out []*resource
	for _, e := range elems {
		tr, diags := hcl.AbsTraversalForExpr(e)
		if diags.HasErrors() {
			sc.c.diags = append(sc.c.diags, errorf(e.Range().Ptr(), "Invalid depends_on",
				"depends_on entries are references such as file.motd, file[\"/etc/motd\"] or module.web, not strings or expressions."))
			continue
		}
		out = append(out, sc.resolveRef(tr)...)
	}
	return out
}

// resolveRef resolves one reference to the active resource instances it
// names: type.name or type["name"], optionally followed by ["key"] for one
// for_each instance; module.name for everything in a module call.
func (sc *scope) resolveRef(tr hcl.Traversal) []*resource {
	rng := tr.SourceRange()
	bad := func(summary, format string, args ...any) []*resource {
		sc.c.diags = append(sc.c.diags, errorf(&rng, summary, format, args...))
		return nil
	}
	typ := tr.RootName()
	if typ != "module" && !resourceTypes[typ] {
		return bad("Invalid reference", "%s is not a reference to a resource or module: write type.name, such as file.motd or module.web.%s",
			traversalString(tr), suggest(typ, append(blockNames(), "module")))
	}
	var parts []string
	for _, step := range tr[1:] {
		switch t := step.(type) {
		case hcl.TraverseAttr:
			if len(parts) > 0 {
				return bad("Invalid reference", "%s: a reference is type.name, optionally with one [\"key\"].", traversalString(tr))
			}
			parts = append(parts, t.Name)
		case hcl.TraverseIndex:
			s, ok := primitiveString(t.Key)
			if !ok {
				return bad("Invalid reference", "%s: an index must be a string or a number.", traversalString(tr))
			}
			parts = append(parts, s)
		default:
			return bad("Invalid reference", "%s: a reference is type.name, optionally with one [\"key\"].", traversalString(tr))
		}
	}
	if len(parts) == 0 || len(parts) > 2 {
		return bad("Invalid reference", "%s: a reference is type.name, optionally with one [\"key\"].", traversalString(tr))
	}
	name := parts[0]
	d := sc.decls[typ+"."+name]
	if d == nil {
		return bad("Reference to an undeclared "+nounOf(typ), "No %s named %q is declared in this module.%s",
			typ, name, suggest(name, sc.declNames(typ)))
	}
	if len(parts) == 2 && d.keys != nil && !d.keys[parts[1]] {
		return bad("Reference to an unknown instance", "%s.%s has no for_each key %q (keys: %s).",
			typ, name, parts[1], strings.Join(sortedKeys(d.keys), ", "))
	}
	var out []*resource
	if typ == "module" {
		for _, s := range d.scopes {
			if len(parts) == 2 && !strings.HasSuffix(s.addr, fmt.Sprintf("[%q]", parts[1])) {
				continue
			}
			out = append(out, s.allResources()...)
		}
		return out
	}
	for _, r := range d.instances {
		if len(parts) == 2 && (!r.hasKey || r.key != parts[1]) {
			continue
		}
		out = append(out, r)
	}
	return out
}

func nounOf(typ string) string {
	if typ == "module" {
		return "module"
	}
	return "resource"
}

// declNames lists the names declared for a block type in the scope.
func (sc *scope) declNames(typ string) []string {
	var out []string
	for _, d := range sc.decls {
		if d.typ == typ {
			out = append(out, d.name)
		}
	}
	sort.Strings(out)
	return out
}

// allResources lists the active resources of a module instance and of the
// modules it calls, in declaration order.
func (sc *scope) allResources() []*resource {
	var out []*resource
	for _, r := range sc.c.resources {
		for s := r.sc; s != nil; s = s.parent {
			if s == sc {
				out = append(out, r)
				break
			}
		}
	}
	return out
}
