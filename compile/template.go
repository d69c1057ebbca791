package compile

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Templates are HCL templates: the same ${...} and %{ if / for } syntax,
// functions and error messages as the config itself, so there is one
// language to learn and every template error has a file:line:col.

// maxTemplateDepth bounds templatefile calls inside templates.
const maxTemplateDepth = 8

type parsedTemplate struct {
	expr  hcl.Expression
	diags hcl.Diagnostics
}

// template parses a template file once per compile.
func (c *compiler) template(p string) (hcl.Expression, hcl.Diagnostics) {
	if t, ok := c.templateCache[p]; ok {
		return t.expr, t.diags
	}
	data, err := c.readRepoFile(p)
	if err != nil {
		d := hcl.Diagnostics{errorf(nil, "Cannot read template", "%v.", err)}
		c.templateCache[p] = parsedTemplate{diags: d}
		return nil, d
	}
	if d := prescan(p, data, true); d != nil {
		c.templateCache[p] = parsedTemplate{diags: hcl.Diagnostics{d}}
		return nil, hcl.Diagnostics{d}
	}
	expr, diags := hclsyntax.ParseTemplate(data, p, hcl.InitialPos)
	c.files[p] = &hcl.File{Bytes: data}
	c.templateCache[p] = parsedTemplate{expr: expr, diags: diags}
	return expr, diags
}

// templateVars checks a template's variables: an object or map whose keys
// are names. host is there too (from hostCtx) unless a variable shadows it.
func (c *compiler) templateVars(v cty.Value) (map[string]cty.Value, error) {
	out := map[string]cty.Value{}
	if v.IsNull() {
		return out, nil
	}
	if !v.IsWhollyKnown() {
		return nil, fmt.Errorf("the template variables are not known")
	}
	ty := v.Type()
	if !ty.IsObjectType() && !ty.IsMapType() {
		return nil, fmt.Errorf("template variables must be an object such as { port = 80 }, not %s", ty.FriendlyName())
	}
	for it := v.ElementIterator(); it.Next(); {
		k, e := it.Element()
		name := k.AsString()
		if !hclsyntax.ValidIdentifier(name) {
			return nil, fmt.Errorf("template variable %q is not a valid name", name)
		}
		out[name] = e
	}
	return out, nil
}

// evalTemplate renders template p with vars.
func (c *compiler) evalTemplate(p string, vars cty.Value) (string, hcl.Diagnostics) {
	expr, diags := c.template(p)
	if diags.HasErrors() {
		return "", diags
	}
	vals, err := c.templateVars(vars)
	if err != nil {
		return "", hcl.Diagnostics{errorf(nil, "Invalid template variables", "%v.", err)}
	}
	for _, q := range c.tplStack {
		if q == p {
			return "", hcl.Diagnostics{errorf(expr.Range().Ptr(), "Template includes itself",
				"Rendering %s leads back to it: %s → %s.", p, strings.Join(c.tplStack, " → "), p)}
		}
	}
	if len(c.tplStack) >= maxTemplateDepth {
		return "", hcl.Diagnostics{errorf(expr.Range().Ptr(), "Templates nested too deep",
			"templatefile calls nest more than %d deep.", maxTemplateDepth)}
	}
	c.tplStack = append(c.tplStack, p)
	defer func() { c.tplStack = c.tplStack[:len(c.tplStack)-1] }()
	ctx := c.hostCtx.NewChild()
	ctx.Variables = vals
	v, diags := c.evalIn(expr, ctx)
	if diags.HasErrors() {
		return "", diags
	}
	s, ok := primitiveString(v)
	if !ok {
		return "", hcl.Diagnostics{errorf(expr.Range().Ptr(), "Invalid template result",
			"The template must produce a string, not %s.", v.Type().FriendlyName())}
	}
	return s, diags
}

// renderTemplate renders a file block's template with its vars.
func (r *resource) renderTemplate(p string, rng hcl.Range) (string, bool) {
	vars := cty.NullVal(cty.DynamicPseudoType)
	if a, ok := r.attrs["vars"]; ok {
		v, diags := r.sc.eval(a.Expr, r.ctx)
		r.sc.c.diags = append(r.sc.c.diags, diags...)
		if diags.HasErrors() || !v.IsWhollyKnown() {
			return "", false
		}
		if _, err := r.sc.c.templateVars(v); err != nil {
			r.diag(errorf(a.Expr.Range().Ptr(), "Invalid template variables", "%v.", err))
			return "", false
		}
		vars = v
	}
	s, diags := r.sc.c.evalTemplate(p, vars)
	for _, d := range diags {
		if d.Subject == nil {
			d.Subject = rng.Ptr()
		}
	}
	r.sc.c.diags = append(r.sc.c.diags, diags...)
	return s, !diags.HasErrors()
}

// diagsError turns diagnostics into a function error, one line each.
func diagsError(diags hcl.Diagnostics) error {
	var lines []string
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			lines = append(lines, strings.TrimRight(OneLine(d), "."))
		}
	}
	return fmt.Errorf("%s", strings.Join(lines, "; "))
}
