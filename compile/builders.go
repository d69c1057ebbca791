package compile

import (
	"strings"

	"github.com/hashicorp/hcl/v2"

	"trail/stepfmt"
)

// buildPackage records the paths a package owns: steps under them come
// after the package, and the step carries them (owns=) so that a plan
// knows the package creates them.
func buildPackage(r *resource, st *stepfmt.Step) {
	paths, rng, ok := r.list("owns")
	if !ok {
		return
	}
	for _, p := range paths {
		if err := stepfmt.CheckPath(p); err != nil {
			r.diag(errorf(&rng, "Invalid owns", "%v.", err))
			continue
		}
		r.owns = append(r.owns, p)
	}
	if len(r.owns) > 0 {
		r.set(st, "owns", strings.Join(r.owns, ","), rng, "owns")
	}
}

// buildUnit defaults a unit to enabled and running (both false when it is
// masked) and collects restart_on and reload_on, whose references are
// resolved once every resource is known.
func buildUnit(r *resource, st *stepfmt.Step) {
	def := "true"
	if m, _ := st.Get("masked"); m == "true" {
		def = "false"
	}
	r.setField(st, field{name: "enabled", key: "enabled", def: def})
	r.setField(st, field{name: "running", key: "running", def: def})
	for _, name := range []string{"restart_on", "reload_on"} {
		if a, ok := r.attrs[name]; ok {
			r.triggers = append(r.triggers, r.triggerAttr(a))
		}
	}
	if r.attrs["reload_on"] != nil && st.Value("reload") == "true" {
		r.diag(errorf(r.attrs["reload"].Range.Ptr(), "Invalid reload",
			"reload = true makes every restart_on path reload; with reload_on as well, list the paths that only reload in reload_on, those that restart in restart_on, and drop reload."))
	}
}

// triggerAttr is a unit's restart_on or reload_on: its literal paths and
// its references to path blocks.
type triggerAttr struct {
	attr *hcl.Attribute
	lit  []string
	refs []hcl.Traversal
}

func (r *resource) triggerAttr(a *hcl.Attribute) *triggerAttr {
	t := &triggerAttr{attr: a}
	elems, diags := hcl.ExprList(a.Expr)
	if diags.HasErrors() {
		// Not a list literal: a computed list of paths.
		if paths, rng, ok := r.list(a.Name); ok {
			for _, p := range paths {
				if t.literal(r, p, rng) {
					t.lit = append(t.lit, p)
				}
			}
		}
		return t
	}
	for _, e := range elems {
		if tr, d := hcl.AbsTraversalForExpr(e); !d.HasErrors() && resourceTypes[tr.RootName()] {
			t.refs = append(t.refs, tr)
			continue
		}
		v, diags := r.sc.eval(e, r.ctx)
		r.sc.c.diags = append(r.sc.c.diags, diags...)
		if diags.HasErrors() || !v.IsWhollyKnown() {
			continue
		}
		s, ok := primitiveString(v)
		if !ok {
			r.diag(errorf(e.Range().Ptr(), "Invalid "+a.Name,
				"%s takes paths and references to file, symlink, directory, tree, package or command blocks, such as [file.nginx_conf, \"/etc/default/nginx\", package.nginx].", a.Name))
			continue
		}
		if t.literal(r, s, e.Range()) {
			t.lit = append(t.lit, s)
		}
	}
	return t
}

// literal checks that a string in a trigger list is an absolute path: a
// package or command is named by a reference.
func (t *triggerAttr) literal(r *resource, s string, rng hcl.Range) bool {
	if strings.HasPrefix(s, "/") {
		return true
	}
	r.diag(errorf(&rng, "Invalid "+t.attr.Name,
		"%q is not an absolute path: %s takes paths and references, such as file.nginx_conf, package.nginx or command.build.", s, t.attr.Name))
	return false
}

// buildCommand insists on an undo: without one trail could not reverse it.
func buildCommand(r *resource, st *stepfmt.Step) {
	if _, null := r.nulls["undo"]; null {
		r.requireNotNull("undo")
	} else if _, ok := r.attrs["undo"]; !ok {
		r.diag(errorf(r.block.DefRange.Ptr(), "Missing undo",
			"A command needs undo = \"...\", the command that reverses it, so that a rollback can run it; write undo = \"true\" when there is nothing to undo."))
	}
}
