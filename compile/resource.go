package compile

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"trail/internal/secret"
	"trail/stepfmt"
)

// resource is one active instance of a resource block and the steps it
// makes.
type resource struct {
	sc     *scope
	kd     *kindDef
	addr   string // e.g. module.web["a"].file.conf["x"]
	key    string
	hasKey bool
	block  *hcl.Block
	rng    hcl.Range
	src    stepfmt.Source
	ctx    *hcl.EvalContext
	attrs  hcl.Attributes // given: a null one is not (readAttrs)
	nulls  map[string]*hcl.Attribute
	vals   []evaluated
	steps  []*stepfmt.Step
	repo   []string // per step: the repository path it comes from, or "" (none with Options.NoRepoPaths)
	owns   []string // package: paths it owns
	// unit restart_on and reload_on, resolved once every resource is known.
	triggers []*triggerAttr
	deps     []*resource // resolved depends_on, including the module calls'
	fileRepo string      // file: the repository file of its content
	virt     int32       // order: index of the "done" node, -1 until made
	first    int32       // order: index of its first step's node
	count    int32       // order: how many steps it made
	maker    *Maker      // what its steps' origins share
}

// labelAddr writes a label as it is referenced: .name when it is an
// identifier, else ["label"].
func labelAddr(label string) string {
	if hclsyntax.ValidIdentifier(label) {
		return "." + label
	}
	return fmt.Sprintf("[%q]", label)
}

// blockRange is the whole block, from its type keyword to its closing brace.
func blockRange(b *hcl.Block) hcl.Range {
	if body, ok := b.Body.(*hclsyntax.Body); ok {
		return hcl.RangeBetween(b.DefRange, body.SrcRange)
	}
	return b.DefRange
}

// newResource builds one resource instance and its steps.
func (sc *scope) newResource(kd *kindDef, b *hcl.Block, attrs hcl.Attributes, ctx *hcl.EvalContext, in instance) *resource {
	r := &resource{sc: sc, kd: kd, block: b, ctx: ctx, attrs: attrs, key: in.key, hasKey: in.hasKey, virt: -1,
		addr: joinAddr(sc.addr, kd.block+labelAddr(b.Labels[0])+in.suffix())}
	r.rng = blockRange(b)
	r.src = stepfmt.Source{File: r.rng.Filename, Line: r.rng.Start.Line, EndLine: r.rng.End.Line}
	if r.src.EndLine <= r.src.Line {
		r.src.EndLine = 0
	}
	sc.c.resources = append(sc.c.resources, r)
	r.readAttrs()
	if kd.expand != nil {
		kd.expand(r)
		return r
	}
	target, trng := r.target()
	st := r.newStep(kd.kind, target, trng)
	if r.isAbsent() {
		r.buildAbsent(st)
		r.add(st, "")
		return r
	}
	r.requirePresent()
	for _, f := range kd.fields {
		r.setField(st, f)
	}
	if kd.build != nil {
		kd.build(r, st)
	}
	r.add(st, r.fileRepo)
	return r
}

func (r *resource) diag(d *hcl.Diagnostic) { r.sc.c.diags = append(r.sc.c.diags, d) }

// target is the path or name attribute, else the block label.
func (r *resource) target() (string, hcl.Range) {
	if v, rng, ok := r.str(r.kd.target); ok {
		return v, rng
	}
	return r.block.Labels[0], r.block.LabelRanges[0]
}

// newStep makes a step with a canonical target and the block as source.
func (r *resource) newStep(kind stepfmt.Kind, target string, rng hcl.Range) *stepfmt.Step {
	t, err := stepfmt.CanonTarget(kind, target)
	if err != nil {
		r.diag(errorf(rng.Ptr(), "Invalid "+r.kd.target, "%s %q: %v.", r.kd.block, target, err))
		t = target
	}
	return &stepfmt.Step{Kind: kind, Target: t, Src: r.src, Attrs: make([]stepfmt.Attr, 0, 5)}
}

// add appends a finished step, enforcing MaxSteps.
func (r *resource) add(st *stepfmt.Step, repoPath string) bool {
	c := r.sc.c
	if c.nsteps >= c.opts.MaxSteps {
		if !c.tooMany {
			c.tooMany = true
			r.diag(errorf(r.block.DefRange.Ptr(), "Too many steps",
				"The config makes more than %d steps; this is the block that went over. Check for_each and tree sources.", c.opts.MaxSteps))
		}
		return false
	}
	c.nsteps++
	if len(r.steps) == cap(r.steps) {
		// Doubled: append grows a big slice by a quarter, so a tree's
		// 100,000 steps allocated five times their lists in copies.
		r.steps = slices.Grow(r.steps, len(r.steps)+16)
		if !c.opts.NoRepoPaths {
			r.repo = slices.Grow(r.repo, len(r.steps)+16)
		}
	}
	r.steps = append(r.steps, st)
	if !c.opts.NoRepoPaths {
		r.repo = append(r.repo, repoPath)
	}
	return true
}

// trim lets go of the room add made beyond an eighth of the steps: a
// tree's lists, doubled as they grew, are held to the compile's end, and
// its highest live heap must not grow by them.
func (r *resource) trim() {
	if cap(r.steps)-len(r.steps) > len(r.steps)/8 {
		r.steps = slices.Clone(r.steps)
	}
	if cap(r.repo)-len(r.repo) > len(r.repo)/8 {
		r.repo = slices.Clone(r.repo)
	}
}

// str evaluates a scalar attribute; ok is false when it is not given
// (absent or null) or broken (broken ones are reported).
func (r *resource) str(name string) (string, hcl.Range, bool) {
	a, ok := r.attrs[name]
	if !ok {
		return "", hcl.Range{}, false
	}
	rng := a.Expr.Range()
	v, diags := r.evalAttr(a)
	r.sc.c.diags = append(r.sc.c.diags, diags...)
	if diags.HasErrors() || !v.IsWhollyKnown() || v.IsNull() {
		return "", rng, false
	}
	s, ok := primitiveString(v)
	if !ok {
		r.diag(errorf(&rng, "Invalid value for "+name,
			"%s takes a string, number or bool, not %s.", name, v.Type().FriendlyName()))
		return "", rng, false
	}
	return s, rng, true
}

// list evaluates a list-of-strings attribute; a single string is a list
// of one.
func (r *resource) list(name string) ([]string, hcl.Range, bool) {
	a, ok := r.attrs[name]
	if !ok {
		return nil, hcl.Range{}, false
	}
	rng := a.Expr.Range()
	v, diags := r.evalAttr(a)
	r.sc.c.diags = append(r.sc.c.diags, diags...)
	if diags.HasErrors() || !v.IsWhollyKnown() || v.IsNull() {
		return nil, rng, false
	}
	out, ok := stringList(v)
	if s, isStr := primitiveString(v); isStr {
		out, ok = []string{s}, true
	}
	if !ok {
		r.diag(errorf(&rng, "Invalid value for "+name, "%s takes a list of strings, not %s.", name, v.Type().FriendlyName()))
		return nil, rng, false
	}
	for _, s := range out {
		if strings.Contains(s, ",") {
			r.diag(errorf(&rng, "Invalid value for "+name, "%q contains a comma, which %s entries may not: write a list, such as [\"a\", \"b\"].", s, name))
			return nil, rng, false
		}
	}
	return out, rng, true
}

// setField copies one generic attribute, or its default, onto the step.
func (r *resource) setField(st *stepfmt.Step, f field) {
	if f.list {
		if vals, rng, ok := r.list(f.name); ok {
			r.set(st, f.key, strings.Join(vals, ","), rng, f.name)
		}
		return
	}
	v, rng, ok := r.str(f.name)
	if !ok {
		if _, given := r.attrs[f.name]; given || f.def == "" {
			return
		}
		v, rng = f.def, r.block.DefRange
	}
	r.set(st, f.key, v, rng, f.name)
}

// set canonicalises a value and sets it, reporting a bad value at rng.
func (r *resource) set(st *stepfmt.Step, key, v string, rng hcl.Range, name string) {
	c, err := stepfmt.Canon(st.Kind, key, v)
	if err != nil {
		r.diag(errorf(&rng, "Invalid value for "+name, "%v.", err))
		return
	}
	st.Set(key, c)
}

// canon canonicalises a value for later use on many steps.
func (r *resource) canon(kind stepfmt.Kind, key, name, def string) (string, bool) {
	v, rng, ok := r.str(name)
	if !ok {
		if _, given := r.attrs[name]; given {
			return "", false
		}
		if def == "" {
			return "", true
		}
		v, rng = def, r.block.DefRange
	}
	c, err := stepfmt.Canon(kind, key, v)
	if err != nil {
		r.diag(errorf(&rng, "Invalid value for "+name, "%v.", err))
		return "", false
	}
	return c, true
}

// blob stores content and returns its content address.
func (c *compiler) blob(data []byte) string {
	key := blobKey(data)
	if _, ok := c.blobs[key]; !ok {
		// An entry Refs names already is left out at the end.
		c.blobs[key] = data
	}
	return key
}

// treeBlob is blob for a tree entry read from path: with LazyTree only
// where to read it again is kept.
func (c *compiler) treeBlob(data []byte, path, key string) {
	if !c.opts.LazyTree {
		if _, ok := c.blobs[key]; !ok {
			c.blobs[key] = data
		}
		return
	}
	c.addRef(key, path)
}

// inBlobs reports whether Blobs holds the content with key; a tree's
// contents are in Refs, and Blobs is mostly empty then.
func (c *compiler) inBlobs(key string) bool {
	if len(c.blobs) == 0 {
		return false
	}
	_, ok := c.blobs[key]
	return ok
}

func blobKey(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// buildFile sets the content of a file from exactly one of content,
// source or template; a file block with none of them but a mode, owner or
// group manages those alone (buildAttrs).
func buildFile(r *resource, st *stepfmt.Step) {
	var given []string
	for _, n := range []string{"content", "source", "template", "secret"} {
		if _, ok := r.attrs[n]; ok {
			given = append(given, n)
		}
	}
	if len(given) == 0 && (r.attrs["mode"] != nil || r.attrs["owner"] != nil || r.attrs["group"] != nil) {
		buildAttrs(r, st)
		return
	}
	if len(given) == 0 {
		for _, n := range []string{"content", "source", "template", "secret"} {
			if _, null := r.nulls[n]; null {
				r.nullError(n, "A file needs its content (or, to manage only its mode, owner or group, those alone), and "+n+" must not be null")
				return
			}
		}
	}
	if len(given) != 1 {
		detail := "A file needs its content: content = \"...\", source = \"files/x\" (a repository file), template = \"templates/x.tpl\" or secret = \"secrets/x.age\" (an age-encrypted repository file); " +
			"or, to manage only the mode, owner or group of a file that is there (one a package ships), those alone."
		if len(given) > 1 {
			detail = fmt.Sprintf("A file takes one of content, source, template and secret; this one has %s.", strings.Join(given, " and "))
		}
		r.diag(errorf(r.block.DefRange.Ptr(), "File content", "%s", detail))
		return
	}
	if v, ok := r.attrs["vars"]; ok && given[0] != "template" {
		r.diag(errorf(v.NameRange.Ptr(), "vars without template", "vars are the variables of a template; this file has no template."))
	}
	c := r.sc.c
	var data []byte
	repo := ""
	switch given[0] {
	case "content":
		a := r.attrs["content"]
		v, diags := r.evalAttr(a)
		c.diags = append(c.diags, diags...)
		if diags.HasErrors() || !v.IsWhollyKnown() {
			return
		}
		s, ok := primitiveString(v)
		if !ok {
			r.diag(errorf(a.Expr.Range().Ptr(), "Invalid content",
				"content takes a string, not %s; use jsonencode() or a template for structured data.", v.Type().FriendlyName()))
			return
		}
		data = []byte(s)
	case "source":
		p, rng, ok := r.repoPathAttr("source")
		if !ok {
			return
		}
		d, err := fs.ReadFile(c.fsys, p)
		if err != nil {
			r.diag(errorf(&rng, "Cannot read source", "Reading %s from the repository failed: %s. source is relative to the repository root.", p, errText(err)))
			return
		}
		if err := lfsPointer(p, d); err != nil {
			r.diag(errorf(&rng, "Invalid source", "%v.", err))
			return
		}
		data, repo = d, p
	case "secret":
		buildSecret(r, st)
		return
	case "template":
		p, rng, ok := r.repoPathAttr("template")
		if !ok {
			return
		}
		s, ok := r.renderTemplate(p, rng)
		if !ok {
			return
		}
		data, repo = []byte(s), p
	}
	st.Set("content", c.blob(data))
	r.fileRepo = repo
}

// buildSecret makes a file's content the age-encrypted repository file
// secret names: the step carries the ciphertext's hash and secret=age,
// and the host decrypts it with its own key when it applies the step, so
// the plaintext is never in the repository, the step list or a plan, and
// no hash of it either (a short secret's hash lets anyone test guesses).
// A secret file is mode 0600 unless the block says otherwise.
func buildSecret(r *resource, st *stepfmt.Step) {
	p, rng, ok := r.repoPathAttr("secret")
	if !ok {
		return
	}
	c := r.sc.c
	data, err := fs.ReadFile(c.fsys, p)
	if err != nil {
		r.diag(errorf(&rng, "Cannot read secret", "Reading %s from the repository failed: %s. secret is relative to the repository root.", p, errText(err)))
		return
	}
	if err := lfsPointer(p, data); err != nil {
		r.diag(errorf(&rng, "Invalid secret", "%v.", err))
		return
	}
	if !secret.IsAgeFile(data) {
		r.diag(errorf(&rng, "Invalid secret", "%s is not an age-encrypted file: encrypt it to the host's public key, e.g. age -r age1… -o %s plain-file (age -a for text), and commit only that.", p, p))
		return
	}
	st.Set("content", c.blob(data))
	st.Set("secret", "age")
	if _, ok := r.attrs["mode"]; !ok {
		st.Set("mode", "0600")
	}
	r.fileRepo = p
}

// repoPathAttr evaluates an attribute naming a repository path.
func (r *resource) repoPathAttr(name string) (string, hcl.Range, bool) {
	v, rng, ok := r.str(name)
	if !ok {
		return "", rng, false
	}
	p, err := repoPath(v)
	if err != nil {
		r.diag(errorf(&rng, "Invalid "+name, "%v.", err))
		return "", rng, false
	}
	return p, rng, true
}
