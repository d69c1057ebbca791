package compile

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// module is a parsed set of config files: the repository root or a module
// directory, with everything they include.
type module struct {
	dir    string
	blocks []*hcl.Block // top-level blocks in load order
}

// maxConfigFile bounds one config or template file, so that a stray large
// file fails clearly instead of being parsed.
const maxConfigFile = 8 << 20

// maxConfigTotal bounds the config and template files one compile reads.
const maxConfigTotal = 64 << 20

// loadModule parses every *.hcl file directly in dir, in name order, each
// followed by the files it includes. call is the range that asked for the
// module (nil for the root). Modules are parsed once per compile.
func (c *compiler) loadModule(dir string, call *hcl.Range) *module {
	if m, ok := c.modules[dir]; ok {
		return m
	}
	entries, err := fs.ReadDir(c.fsys, dir)
	if err != nil {
		what := "module source"
		if call == nil {
			what = "config"
		}
		c.diags = append(c.diags, errorf(call, "Cannot read "+what,
			"Reading directory %q of the repository failed: %v.", dir, errText(err)))
		return nil
	}
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".hcl") && !e.IsDir() {
			names = append(names, path.Join(dir, e.Name()))
		}
	}
	if len(names) == 0 {
		if call == nil {
			c.diags = append(c.diags, errorf(nil, "No config files",
				"The repository root has no *.hcl files: the config lives in *.hcl files at the root of the config repository."))
		} else {
			c.diags = append(c.diags, errorf(call, "Empty module",
				"The module directory %q has no *.hcl files.", dir))
		}
		return nil
	}
	m := &module{dir: dir}
	c.modules[dir] = m
	loaded := map[string]bool{}
	for _, name := range names {
		c.loadFile(m, name, loaded, nil)
	}
	return m
}

// loadFile parses one file into m, then the files its include attribute
// names; from is that include (nil for a file of the module's directory).
// A file already loaded into m is not loaded again.
func (c *compiler) loadFile(m *module, name string, loaded map[string]bool, from *hcl.Range) {
	if loaded[name] {
		return
	}
	loaded[name] = true
	f := c.parseFile(name, from)
	if f == nil {
		return
	}
	content, diags := f.Body.Content(moduleSchema)
	c.diags = append(c.diags, diags...)
	m.blocks = append(m.blocks, content.Blocks...)
	attr, ok := content.Attributes["include"]
	if !ok {
		return
	}
	for _, name := range c.includes(attr, m.dir) {
		c.loadFile(m, name, loaded, attr.Expr.Range().Ptr())
	}
}

// parseFile reads and parses one config file; from, when set, is the range
// that named it.
func (c *compiler) parseFile(name string, from *hcl.Range) *hcl.File {
	if f, ok := c.files[name]; ok {
		return f
	}
	data, err := c.readRepoFile(name)
	if err != nil {
		c.diags = append(c.diags, errorf(from, "Cannot read config file", "%v.", err))
		return nil
	}
	if d := prescan(name, data, false); d != nil {
		if shortLine(data, d.Subject.Start.Byte) {
			c.files[name] = &hcl.File{Bytes: data} // for the snippet
		}
		c.diags = append(c.diags, d)
		c.unparsed = true
		return nil
	}
	f, diags := c.parser.ParseHCL(data, name)
	c.diags = append(c.diags, diags...)
	if f != nil {
		c.files[name] = f
	}
	if diags.HasErrors() {
		c.unparsed = true
		return nil
	}
	return f
}

// readRepoFile reads a config or template file (or one file() reads),
// refusing huge ones, more than maxConfigTotal bytes of them in all, and
// Git LFS pointers.
func (c *compiler) readRepoFile(name string) ([]byte, error) {
	info, err := fs.Stat(c.fsys, name)
	if err == nil && info.Size() > maxConfigFile {
		return nil, fmt.Errorf("%s is %d bytes, more than the %d a config or template file may have", name, info.Size(), maxConfigFile)
	}
	if err == nil && c.textBytes+info.Size() > maxConfigTotal {
		return nil, fmt.Errorf("%s would bring the config and template files read to more than %d bytes: split the repository, or give large content to file blocks with source", name, maxConfigTotal)
	}
	data, err := fs.ReadFile(c.fsys, name)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %s", name, errText(err))
	}
	c.textBytes += int64(len(data))
	if err := lfsPointer(name, data); err != nil {
		return nil, err
	}
	return data, nil
}

// includes evaluates an include attribute: a list of glob patterns relative
// to the repository root, taken in order, the matches of each in name
// order. A pattern that matches no file is an error.
func (c *compiler) includes(attr *hcl.Attribute, dir string) []string {
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{"path": pathValue(dir)}, Functions: c.funcs}
	val, diags := evalExpr(attr.Expr, ctx)
	c.diags = append(c.diags, diags...)
	if diags.HasErrors() {
		return nil
	}
	pats, ok := stringList(val)
	if !ok {
		c.diags = append(c.diags, errorf(attr.Expr.Range().Ptr(), "Invalid include",
			"include takes a list of file patterns relative to the repository root, such as [\"roles/*.hcl\"]."))
		return nil
	}
	var out []string
	for _, p := range pats {
		clean, err := repoPath(p)
		if err == nil {
			_, err = path.Match(clean, "")
		}
		if err != nil {
			c.diags = append(c.diags, errorf(attr.Expr.Range().Ptr(), "Invalid include pattern", "Pattern %q: %v.", p, err))
			continue
		}
		matches, err := fs.Glob(c.fsys, clean)
		if err != nil {
			c.diags = append(c.diags, errorf(attr.Expr.Range().Ptr(), "Invalid include pattern", "Pattern %q: %v.", p, err))
			continue
		}
		sort.Strings(matches)
		n := 0
		for _, m := range matches {
			info, err := fs.Stat(c.fsys, m)
			if err != nil {
				c.diags = append(c.diags, errorf(attr.Expr.Range().Ptr(), "Cannot read include",
					"Pattern %q matches %s, which cannot be read: %s. Include only files of the repository.", p, m, errText(err)))
				n++
				continue
			}
			if !info.IsDir() {
				out = append(out, m)
				n++
			}
		}
		if n == 0 {
			c.diags = append(c.diags, errorf(attr.Expr.Range().Ptr(), "Include matches nothing",
				"No file of the repository matches %q; include patterns are relative to the repository root.", p))
		}
	}
	return out
}

// repoPath checks and cleans a path into the repository: relative to its
// root, slash separated, not leaving it.
func repoPath(p string) (string, error) {
	switch {
	case p == "":
		return "", errors.New("empty path")
	case strings.IndexByte(p, 0) >= 0:
		return "", errors.New("path contains a NUL byte")
	case strings.HasPrefix(p, "/"):
		return "", fmt.Errorf("%q is absolute: repository paths are relative to the repository root, like files/motd", p)
	}
	clean := path.Clean(p)
	if clean == ".." || strings.HasPrefix(clean, "../") {
		return "", fmt.Errorf("%q leaves the repository", p)
	}
	return clean, nil
}

// errText is an error's message without the Go operation prefix.
func errText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		if errors.Is(pe.Err, fs.ErrNotExist) {
			return "no such file in the repository"
		}
		return pe.Err.Error()
	}
	return err.Error()
}

// pathValue is the path object: path.module is the directory of the
// current module, path.root the repository root, both for repo paths.
func pathValue(dir string) cty.Value {
	return cty.ObjectVal(map[string]cty.Value{"module": cty.StringVal(dir), "root": cty.StringVal(".")})
}

// stringList converts a list, set or tuple of strings (or values that
// convert to strings) to a Go slice.
func stringList(v cty.Value) ([]string, bool) {
	if v.IsNull() || !v.IsKnown() || !(v.Type().IsListType() || v.Type().IsSetType() || v.Type().IsTupleType()) {
		return nil, false
	}
	out := make([]string, 0, v.LengthInt())
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		s, ok := primitiveString(e)
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}
