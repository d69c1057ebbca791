package compile

import (
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// Templates are HCL templates: the same ${...} and %{ if / for } syntax,
// functions and error messages as the config itself, so there is one
// language to learn and every template error has a file:line:col.

// maxTemplateDepth bounds include and templatefile calls inside templates.
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
	// Unplaced: the call that closes the loop is the place (templateError).
	for _, q := range c.tplStack {
		if q == p {
			return "", hcl.Diagnostics{errorf(nil, "Template includes itself",
				"rendering %s leads back to it: %s → %s", p, strings.Join(c.tplStack, " → "), p)}
		}
	}
	if len(c.tplStack) >= maxTemplateDepth {
		return "", hcl.Diagnostics{errorf(nil, "Templates nested too deep",
			"include and templatefile calls nest more than %d deep (%s → %s)", maxTemplateDepth, strings.Join(c.tplStack, " → "), p)}
	}
	c.tplStack = append(c.tplStack, p)
	c.tplVars = append(c.tplVars, vals)
	defer func() {
		c.tplStack = c.tplStack[:len(c.tplStack)-1]
		c.tplVars = c.tplVars[:len(c.tplVars)-1]
	}()
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
		v, diags := r.evalAttr(a)
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

// renderNested renders template p for a function called while another
// template (or an expression) is evaluated: its problems become a
// templateError, whose placed diagnostics evalIn reports at their places.
func (c *compiler) renderNested(p string, vars cty.Value) (cty.Value, error) {
	s, diags := c.evalTemplate(p, vars)
	if !diags.HasErrors() {
		return cty.StringVal(s), nil
	}
	e := &templateError{path: p}
	var unplaced []string
	for _, d := range diags {
		switch {
		case d.Subject != nil:
			e.diags = append(e.diags, d)
		case d.Severity == hcl.DiagError:
			unplaced = append(unplaced, strings.TrimSuffix(d.Summary+": "+d.Detail, "."))
		}
	}
	e.msg = strings.Join(unplaced, "; ")
	return cty.UnknownVal(cty.String), e
}

// templateError is a nested template that did not render. The call gets
// a diagnostic that points to the first problem; the problems themselves
// are reported at their places in the template (hoistTemplateErrors).
type templateError struct {
	path  string
	diags hcl.Diagnostics // placed, reported after the call's
	msg   string          // the problems without a place
}

func (e *templateError) Error() string {
	if e.msg != "" {
		return e.msg
	}
	for _, d := range e.diags {
		if d.Severity == hcl.DiagError {
			return fmt.Sprintf("%s does not render: %s at %s", e.path, d.Summary, at(*d.Subject))
		}
	}
	return e.path + " does not render"
}

// hoistTemplateErrors adds, after each failed call of include or
// templatefile, the problems of the template it rendered, at their
// places. Inside try and can, whose failures vanish, nothing is added.
func hoistTemplateErrors(diags hcl.Diagnostics) hcl.Diagnostics {
	var out hcl.Diagnostics
	for _, d := range diags {
		out = append(out, d)
		x, ok := d.Extra.(hclsyntax.FunctionCallDiagExtra)
		var te *templateError
		if ok && errors.As(x.FunctionCallError(), &te) {
			out = append(out, te.diags...)
		}
	}
	return out
}

// includeFunc is include(path[, vars]): inside a template, another
// template rendered with the variables of the one that calls it, and
// vars over them.
func (c *compiler) includeFunc() function.Function {
	return function.New(&function.Spec{
		Params:   []function.Parameter{{Name: "path", Type: cty.String}},
		VarParam: &function.Parameter{Name: "vars", Type: cty.DynamicPseudoType, AllowNull: true},
		Type:     function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			if len(c.tplVars) == 0 {
				return cty.UnknownVal(cty.String), errors.New("include works inside a template, which it gives its variables; in the config, render a template with templatefile(path, vars)")
			}
			if len(args) > 2 {
				return cty.UnknownVal(cty.String), errors.New("include takes a template path and at most one object of variables")
			}
			p, err := repoArg(args[0])
			if err != nil {
				return cty.UnknownVal(cty.String), err
			}
			vals := maps.Clone(c.tplVars[len(c.tplVars)-1])
			if len(args) == 2 {
				extra, err := c.templateVars(args[1])
				if err != nil {
					return cty.UnknownVal(cty.String), err
				}
				maps.Copy(vals, extra)
			}
			return c.renderNested(p, cty.ObjectVal(vals))
		},
	})
}
