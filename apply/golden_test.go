package apply

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"trail/apply/state"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestGolden applies the lists of each testdata/*.txtar archive in turn
// ("steps1", "steps2", ...; {text} stands for the store key of text) onto
// the files of its "root/" entries, and compares the plan of each list
// ("planN"), then the final applied record ("applied") and generation
// record ("generation", times blanked) with the archive.
func TestGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.txtar")
	if len(files) == 0 {
		t.Fatal("no golden files")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) { golden(t, file) })
	}
}

var timeRE = regexp.MustCompile(`"(start|end)": "[^"]*"`)

func golden(t *testing.T, file string) {
	ar, err := txtar.ParseFile(file)
	if err != nil {
		t.Fatal(err)
	}
	sb := newSandbox(t)
	sb.opts.AllowMassRemoval = true
	sb.open()
	got := map[string][]byte{}
	for _, f := range ar.Files {
		if rel, ok := cutPrefix(f.Name, "root/"); ok {
			sb.write("/"+rel, string(f.Data), 0o644)
		}
	}
	var last *Generation
	for i := 1; ; i++ {
		steps := find(ar, "steps"+itoa(i))
		if steps == nil {
			break
		}
		l := sb.list(string(steps))
		p, err := sb.e.Plan(l)
		if err != nil {
			t.Fatalf("plan %d: %v", i, err)
		}
		var b bytes.Buffer
		PrintPlan(&b, p)
		got["plan"+itoa(i)] = b.Bytes()
		last = sb.apply(string(steps), "commit"+itoa(i))
	}
	applied, _ := os.ReadFile(sb.e.path(state.FileApplied))
	got["applied"] = applied
	gen, _ := json.MarshalIndent(last, "", "  ")
	got["generation"] = append(timeRE.ReplaceAll(gen, []byte(`"$1": "-"`)), '\n')
	if *update {
		for name, data := range got {
			set(ar, name, data)
		}
		if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	for name, data := range got {
		if want := find(ar, name); !bytes.Equal(want, data) {
			t.Errorf("%s differs (run with -update to accept):\n--- got\n%s--- want\n%s", name, data, want)
		}
	}
}

func find(ar *txtar.Archive, name string) []byte {
	for _, f := range ar.Files {
		if f.Name == name {
			return f.Data
		}
	}
	return nil
}

func set(ar *txtar.Archive, name string, data []byte) {
	for i := range ar.Files {
		if ar.Files[i].Name == name {
			ar.Files[i].Data = data
			return
		}
	}
	ar.Files = append(ar.Files, txtar.File{Name: name, Data: data})
}

func cutPrefix(s, p string) (string, bool) {
	if len(s) >= len(p) && s[:len(p)] == p {
		return s[len(p):], true
	}
	return s, false
}

func itoa(i int) string { return string(rune('0' + i)) }
