package compile

import (
	"bytes"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/hashicorp/hcl/v2"

	"trail/stepfmt"
)

func compileText(t *testing.T, files map[string]string, opts Options) (*Result, hcl.Diagnostics) {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, data := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(data)}
	}
	res, diags := Compile(fsys, testFacts(), opts)
	checkInvariants(t, res, diags)
	return res, diags
}

// TestDeterministic compiles a config full of maps, sets and modules many
// times: Go map order must never leak into the output.
func TestDeterministic(t *testing.T) {
	files := map[string]string{
		"main.hcl": `
locals {
  users = { for n in ["k", "c", "x", "a", "m", "b"] : n => { uid = 3000 + strlen(n) } }
}
user "u" {
  for_each = local.users
  name     = each.key
}
module "m" {
  for_each = toset(["q", "e", "w", "r"])
  source   = "mod"
  name     = each.key
}
file "f" {
  for_each = merge({ z = 1 }, { y = 2 }, { x = 3 })
  path     = "/etc/f/${each.key}"
  content  = jsonencode({ v = each.value, w = [3, 2, 1], m = { b = 1, a = 2 } })
}
`,
		"mod/m.hcl": `
variable "name" {}
directory "d" { path = "/srv/${var.name}" }
group "g" { name = "g${var.name}" }
`,
	}
	first, diags := compileText(t, files, Options{})
	if diags.HasErrors() {
		t.Fatal(strings.Join(Lines(diags), "\n"))
	}
	want := stepfmt.Format(first.List)
	for i := 0; i < 20; i++ {
		res, _ := compileText(t, files, Options{})
		if got := stepfmt.Format(res.List); !bytes.Equal(got, want) {
			t.Fatalf("run %d differs:\n%s\nvs\n%s", i, got, want)
		}
	}
}

func TestOneLine(t *testing.T) {
	rng := hcl.Range{Filename: "web.hcl", Start: hcl.Pos{Line: 3, Column: 7}}
	tests := map[string]struct {
		d    *hcl.Diagnostic
		want string
	}{
		"placed": {&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Bad", Detail: "It is\nbad.", Subject: &rng},
			"web.hcl:3:7: Bad: It is bad."},
		"no place": {&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Bad"}, "config: Bad"},
		"warning":  {&hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Hm", Subject: &rng}, "web.hcl:3:7: warning: Hm"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := OneLine(tc.d); got != tc.want {
				t.Errorf("OneLine = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestWriteDiagnosticsSnippet checks that rendered diagnostics show the
// offending line, including for template files.
func TestWriteDiagnosticsSnippet(t *testing.T) {
	res, diags := compileText(t, map[string]string{
		"main.hcl": "file \"/etc/x\" {\n  template = \"t.tpl\"\n}\n",
		"t.tpl":    "line one\nvalue ${nope}\n",
	}, Options{})
	if !diags.HasErrors() {
		t.Fatal("expected an error")
	}
	var b bytes.Buffer
	if err := res.WriteDiagnostics(&b, diags, 80, false); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"on t.tpl line 2", "2: value ${nope}", `There is no variable named "nope"`} {
		if !strings.Contains(out, want) {
			t.Errorf("rendered diagnostics lack %q:\n%s", want, out)
		}
	}
}

func TestEmptyRepository(t *testing.T) {
	_, diags := compileText(t, map[string]string{"README": "no config"}, Options{})
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "no *.hcl files") {
		t.Fatalf("diags = %v", diags)
	}
}

func TestHeaderHost(t *testing.T) {
	files := map[string]string{"main.hcl": `package "vim" {}`}
	res, _ := compileText(t, files, Options{Commit: "c0ffee", Host: "override"})
	if h := res.List.Header; h.Host != "override" || h.Commit != "c0ffee" || h.Version != stepfmt.Version {
		t.Errorf("header = %+v", h)
	}
	res, _ = compileText(t, files, Options{})
	if h := res.List.Header; h.Host != "web1" {
		t.Errorf("header host = %q, want the host name fact", h.Host)
	}
}
