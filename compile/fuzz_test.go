package compile

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"trail/stepfmt"
)

// FuzzCompile compiles arbitrary repositories, written as txtar archives
// (a plain input is main.hcl). The archive comment may set facts and
// variables as the golden files do. A compile must never panic, must report
// problems as diagnostics, must return no steps with errors, must hold
// every invariant of a good compile otherwise, and must repeat itself.
func FuzzCompile(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/golden/*.txtar")
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`file "/etc/x" { content = "x" }`))
	addDeepSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		a := txtar.Parse(data)
		if len(a.Files) == 0 {
			a.Files = []txtar.File{{Name: "main.hcl", Data: data}}
		}
		facts, opts := fuzzOptions(a.Comment)
		fsys := repoFS(t, a)
		res, diags := Compile(fsys, facts, opts)
		checkInvariants(t, res, diags)
		again, diags2 := Compile(fsys, facts, opts)
		if strings.Join(Lines(diags), "\n") != strings.Join(Lines(diags2), "\n") {
			t.Fatalf("diagnostics differ between runs:\n%s\nvs\n%s", Lines(diags), Lines(diags2))
		}
		if res.List != nil && !bytes.Equal(stepfmt.Format(res.List), stepfmt.Format(again.List)) {
			t.Fatal("step lists differ between runs")
		}
		var b bytes.Buffer
		if err := res.WriteDiagnostics(&b, diags, 80, false); err != nil {
			t.Fatal(err)
		}
	})
}

// fuzzOptions reads fact and var lines like goldenOptions, ignoring bad
// ones, and keeps the compile small.
func fuzzOptions(comment []byte) (Facts, Options) {
	facts := testFacts()
	opts := Options{Commit: "fuzz", MaxSteps: 2000}
	for _, line := range strings.Split(string(comment), "\n") {
		word, rest, _ := strings.Cut(strings.TrimSpace(line), " ")
		k, v, _ := strings.Cut(rest, "=")
		switch word {
		case "fact":
			_ = facts.Set(k, v)
		case "var":
			if opts.Vars == nil {
				opts.Vars = map[string]string{}
			}
			opts.Vars[k] = v
		}
	}
	return facts, opts
}
