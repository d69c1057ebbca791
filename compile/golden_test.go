package compile

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"golang.org/x/tools/txtar"

	"trail/stepfmt"
)

var update = flag.Bool("update", false, "rewrite the want sections of golden files")

// errorMark marks a line of a config file on which a diagnostic is expected.
var errorMark = regexp.MustCompile(`#\s*ERROR\b`)

// TestGolden compiles each testdata/golden/*.txtar: its files are the
// repository; its comment may set facts ("fact hostname=db1", or "unknown
// cpus=why" for one that could not be read), variables
// ("var admins=[\"x\"]") and the commit ("commit abc"). The result is
// compared with want.steps (the step list) or, on errors, want.diags (one
// line each) and want.text (rendered with snippets); want.origins, when
// present, lists each step's origin, and want.content the content of
// each FILE step and the script of each EDIT step. In config files, a line carrying the
// comment "# ERROR" must have a diagnostic, and every diagnostic must sit
// on such a line.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/golden/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatal("no golden files")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			a, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			facts, opts := goldenOptions(t, a.Comment)
			res, diags := Compile(repoFS(t, a), facts, opts)
			checkInvariants(t, res, diags)

			got := map[string]string{}
			if res.List != nil {
				got["want.steps"] = string(stepfmt.Format(res.List))
				if section(a, "want.origins") != nil {
					var b strings.Builder
					for i, st := range res.List.Steps {
						o := res.Origins[i]
						fmt.Fprintf(&b, "%s  %s  %s", st.ID(), o.Resource, at(o.Range))
						if o.RepoPath != "" {
							fmt.Fprintf(&b, "  %s", o.RepoPath)
						}
						b.WriteByte('\n')
					}
					got["want.origins"] = b.String()
				}
				if section(a, "want.content") != nil {
					var b strings.Builder
					for _, st := range res.List.Steps {
						if key, ok := st.Get("content"); ok || st.Kind == stepfmt.KindEdit {
							if !ok {
								key = st.Value("edits")
							}
							data := res.Blobs[key]
							fmt.Fprintf(&b, "== %s\n%s", st.Target, data)
							if len(data) > 0 && data[len(data)-1] != '\n' {
								b.WriteString("\n\\ No newline at end of file\n")
							}
						}
					}
					got["want.content"] = b.String()
				}
			}
			if len(diags) > 0 {
				got["want.diags"] = strings.Join(Lines(diags), "\n") + "\n"
				var b bytes.Buffer
				if err := res.WriteDiagnostics(&b, diags, 0, false); err != nil {
					t.Fatal(err)
				}
				got["want.text"] = b.String()
				checkMarks(t, a, diags)
			} else if hasMarks(a) {
				t.Errorf("the fixture marks lines with # ERROR but the compile had no diagnostics")
			}

			if *update {
				var kept []txtar.File
				for _, f := range a.Files {
					if !strings.HasPrefix(f.Name, "want.") {
						kept = append(kept, f)
					}
				}
				for _, name := range []string{"want.steps", "want.origins", "want.content", "want.diags", "want.text"} {
					if s, ok := got[name]; ok {
						kept = append(kept, txtar.File{Name: name, Data: []byte(s)})
					}
				}
				a.Files = kept
				if err := os.WriteFile(file, txtar.Format(a), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			for _, f := range a.Files {
				if !strings.HasPrefix(f.Name, "want.") {
					continue
				}
				if g, ok := got[f.Name]; !ok {
					t.Errorf("%s expected but the compile produced none", f.Name)
				} else if g != string(f.Data) {
					t.Errorf("%s differs:\n--- got\n%s--- want\n%s", f.Name, g, f.Data)
				}
			}
			for name := range got {
				if section(a, name) == nil && name != "want.text" {
					t.Errorf("compile produced %s, which the fixture lacks (run with -update):\n%s", name, got[name])
				}
			}
		})
	}
}

func section(a *txtar.Archive, name string) *txtar.File {
	for i := range a.Files {
		if a.Files[i].Name == name {
			return &a.Files[i]
		}
	}
	return nil
}

// goldenOptions reads fact, var and commit lines from the comment.
func goldenOptions(t *testing.T, comment []byte) (Facts, Options) {
	facts := testFacts()
	opts := Options{Commit: "0123abc"}
	for _, line := range strings.Split(string(comment), "\n") {
		word, rest, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch word {
		case "fact":
			k, v, _ := strings.Cut(rest, "=")
			if err := facts.Set(k, v); err != nil {
				t.Fatal(err)
			}
		case "var":
			k, v, _ := strings.Cut(rest, "=")
			if opts.Vars == nil {
				opts.Vars = map[string]string{}
			}
			opts.Vars[k] = v
		case "unknown":
			k, why, _ := strings.Cut(rest, "=")
			if facts.Unknown == nil {
				facts.Unknown = map[string]string{}
			}
			facts.Unknown[k] = why
		case "commit":
			opts.Commit = rest
		case "maxsteps":
			fmt.Sscan(rest, &opts.MaxSteps)
		}
	}
	return facts, opts
}

func hasMarks(a *txtar.Archive) bool {
	for _, f := range a.Files {
		if strings.HasSuffix(f.Name, ".hcl") && errorMark.Match(f.Data) {
			return true
		}
	}
	return false
}

// checkMarks compares the lines marked # ERROR with the lines diagnostics
// point at.
func checkMarks(t *testing.T, a *txtar.Archive, diags hcl.Diagnostics) {
	t.Helper()
	marked := map[string]bool{}
	for _, f := range a.Files {
		if !strings.HasSuffix(f.Name, ".hcl") {
			continue
		}
		for i, line := range strings.Split(string(f.Data), "\n") {
			if errorMark.MatchString(line) {
				marked[fmt.Sprintf("%s:%d", f.Name, i+1)] = true
			}
		}
	}
	hit := map[string]bool{}
	for _, d := range diags {
		if d.Subject == nil || !strings.HasSuffix(d.Subject.Filename, ".hcl") {
			continue
		}
		at := fmt.Sprintf("%s:%d", d.Subject.Filename, d.Subject.Start.Line)
		hit[at] = true
		if !marked[at] {
			t.Errorf("diagnostic on an unmarked line %s: %s", at, OneLine(d))
		}
	}
	var missed []string
	for at := range marked {
		if !hit[at] {
			missed = append(missed, at)
		}
	}
	sort.Strings(missed)
	for _, at := range missed {
		t.Errorf("line %s is marked # ERROR but has no diagnostic", at)
	}
}
