package stepfmt

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
)

var update = flag.Bool("update", false, "rewrite the expected sections of golden files")

// TestGoldenParse loads main.steps of each testdata/parse/*.txtar (the other
// files of the archive sit beside it, for includes), validates the result
// and compares the printed list and every error with the "want" section.
func TestGoldenParse(t *testing.T) {
	golden(t, "testdata/parse/*.txtar", func(t *testing.T, dir string) string {
		t.Chdir(dir)
		l, errs := Load("main.steps", LoadOptions{Exec: true})
		var b bytes.Buffer
		if len(errs) == 0 {
			errs = Validate(l)
			b.Write(Format(l))
		}
		for _, e := range errs {
			b.WriteString("error: ")
			b.WriteString(e.Error())
			b.WriteByte('\n')
		}
		return b.String()
	})
}

// TestGoldenDiff diffs old.steps against new.steps and compares the plan.
func TestGoldenDiff(t *testing.T) {
	golden(t, "testdata/diff/*.txtar", func(t *testing.T, dir string) string {
		old, errs := Load(filepath.Join(dir, "old.steps"), LoadOptions{})
		if len(errs) > 0 {
			t.Fatalf("old.steps: %v", errs)
		}
		new, errs := Load(filepath.Join(dir, "new.steps"), LoadOptions{})
		if len(errs) > 0 {
			t.Fatalf("new.steps: %v", errs)
		}
		var b bytes.Buffer
		if err := PrintPlan(&b, Diff(old.Steps, new.Steps)); err != nil {
			t.Fatal(err)
		}
		return b.String()
	})
}

func golden(t *testing.T, pattern string, run func(t *testing.T, dir string) string) {
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files match %s", pattern)
	}
	for _, file := range files {
		file, _ := filepath.Abs(file)
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			want, wantIdx := "", -1
			for i, f := range ar.Files {
				if f.Name == "want" {
					want, wantIdx = string(f.Data), i
					continue
				}
				mode := os.FileMode(0o644)
				if strings.HasSuffix(f.Name, ".sh") {
					mode = 0o755
				}
				p := filepath.Join(dir, f.Name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, f.Data, mode); err != nil {
					t.Fatal(err)
				}
			}
			got := run(t, dir)
			if *update {
				if wantIdx < 0 {
					ar.Files = append(ar.Files, txtar.File{Name: "want"})
					wantIdx = len(ar.Files) - 1
				}
				ar.Files[wantIdx].Data = []byte(got)
				if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if got != want {
				t.Errorf("%s: output differs (run with -update to accept)\n--- got\n%s--- want\n%s", file, got, want)
			}
		})
	}
}
