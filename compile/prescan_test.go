package compile

import (
	"runtime/debug"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"golang.org/x/tools/txtar"
)

// hostileDepth is deep enough to overflow Go's 1 GB stack in HCL's
// parser without the prescan: a 400 KB file of brackets.
const hostileDepth = 200_000

// deepInputs are repositories whose one text nests depth levels deep, with
// the file and line:col the refusal must name.
func deepInputs(depth int) map[string]struct {
	files map[string]string
	at    string
} {
	type in = struct {
		files map[string]string
		at    string
	}
	r := strings.Repeat
	tpl := `file "/etc/x" {` + "\n" + `  template = "x.tpl"` + "\n}\n"
	return map[string]in{
		"brackets": {map[string]string{"main.hcl": "x = " + r("[", depth) + r("]", depth) + "\n"}, "main.hcl:1:105"},
		"parens":   {map[string]string{"main.hcl": "\nx = " + r("(", depth) + "1" + r(")", depth) + "\n"}, "main.hcl:2:105"},
		"braces":   {map[string]string{"main.hcl": "x = " + r("{a = ", depth) + "1" + r("}", depth) + "\n"}, "main.hcl:1:505"},
		"blocks":   {map[string]string{"main.hcl": r("a {\n", depth) + r("}\n", depth)}, "main.hcl:101:3"},
		"interp":   {map[string]string{"main.hcl": "x = " + r(`"${`, depth) + "1" + r(`}"`, depth) + "\n"}, "main.hcl:1:155"},
		"not":      {map[string]string{"main.hcl": "x = " + r("!", depth) + "true\n"}, "main.hcl:1:105"},
		"negate":   {map[string]string{"main.hcl": "x = " + r("- ", depth) + "1\n"}, "main.hcl:1:205"},
		"directives": {map[string]string{"main.hcl": tpl,
			"x.tpl": r("%{ if true }", depth) + r("%{ endif }", depth)}, "x.tpl:1:1189"},
		"template": {map[string]string{"main.hcl": tpl, "x.tpl": "a\n" + r("${", depth) + "1" + r("}", depth)}, "x.tpl:2:202"},
		"heredoc":  {map[string]string{"main.hcl": "x = <<EOT\n" + r("${[", depth) + "\nEOT\n"}, "main.hcl:2:150"},
	}
}

// A config nesting 200,000 levels deep gets a placed error before it is
// parsed, instead of a fatal stack overflow.
func TestHostileNesting(t *testing.T) {
	for name, in := range deepInputs(hostileDepth) {
		t.Run(name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for p, data := range in.files {
				fsys[p] = &fstest.MapFile{Data: []byte(data), Mode: 0o644}
			}
			res, diags := Compile(fsys, testFacts(), Options{})
			checkInvariants(t, res, diags)
			if len(diags) != 1 || !strings.HasPrefix(OneLine(diags[0]), in.at+": ") {
				t.Fatalf("want one error at %s, got %q", in.at, Lines(diags))
			}
		})
	}
}

// Nesting inside comments, strings and heredocs is text, and the bound is
// not hit by what a config really holds.
func TestPrescanReadsText(t *testing.T) {
	deep := strings.Repeat("[", 500)
	for _, src := range []string{
		"# " + deep + "\nx = 1\n",
		"// " + deep + "\nx = 1\n",
		"/* " + deep + " */\nx = 1\n",
		`x = "` + deep + `"` + "\n",
		`x = "\"` + deep + `"` + "\n",
		`x = "$${` + strings.Repeat("${", 0) + deep + `"` + "\n",
		"x = <<EOT\n" + deep + "\nEOT\ny = 1\n",
		"x = <<-EOT\n  " + deep + "\n  EOT\n",
		"x = [for a in [1, 2] : a if a > 1]\ny = !!true\nz = 1 - -1\n",
		strings.Repeat("[", maxNesting) + strings.Repeat("]", maxNesting),
		// Closed lists and calls, one after another: each closes its level.
		strings.Repeat("a = [\"x\"]\nb = f(1)\n", 2*maxNesting),
	} {
		if d := prescan("x.hcl", []byte(src), false); d != nil {
			t.Errorf("%.60q: %s", src, OneLine(d))
		}
	}
	if d := prescan("x.tpl", []byte("%%{ "+strings.Repeat("[", 500)+"\n"), true); d != nil {
		t.Errorf("template text: %s", OneLine(d))
	}
}

// Every deep input, at a size a fuzzer can mutate, is fuzz seed corpus.
func addDeepSeeds(f *testing.F) {
	for _, in := range deepInputs(2 * maxNesting) {
		var a txtar.Archive
		for p, data := range in.files {
			a.Files = append(a.Files, txtar.File{Name: p, Data: []byte(data)})
		}
		f.Add(txtar.Format(&a))
	}
}

// FuzzPrescan runs the pre-scan and then every HCL parser trail uses
// (config, template, expression) on what it accepts, with the stack
// bounded to 64 MB: an input the pre-scan lets through must parse and
// evaluate without exhausting it, and the pre-scan must never panic.
func FuzzPrescan(f *testing.F) {
	for _, in := range deepInputs(2 * maxNesting) {
		for _, data := range in.files {
			f.Add([]byte(data))
		}
	}
	for _, in := range deepInputs(maxNesting / 2) {
		for _, data := range in.files {
			f.Add([]byte(data))
		}
	}
	f.Add([]byte("x = <<EOT\n${[1]}\nEOT\ny = \"${\"a\"}\" # c\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		debug.SetMaxStack(64 << 20)
		if prescan("f.hcl", data, false) == nil {
			if f, diags := hclsyntax.ParseConfig(data, "f.hcl", hcl.InitialPos); !diags.HasErrors() {
				attrs, _ := f.Body.JustAttributes()
				for _, a := range attrs {
					a.Expr.Value(nil)
					a.Expr.Variables()
				}
			}
			if e, diags := hclsyntax.ParseExpression(data, "f.hcl", hcl.InitialPos); !diags.HasErrors() {
				e.Value(nil)
			}
		}
		if prescan("f.tpl", data, true) == nil {
			if e, diags := hclsyntax.ParseTemplate(data, "f.tpl", hcl.InitialPos); !diags.HasErrors() {
				e.Value(nil)
			}
		}
	})
}
