package e2e

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/txtar"
)

var update = flag.Bool("update", false, "rewrite the want sections of testdata/*/*.txtar")

// TestAptSources feeds each testdata/aptsources/*.txtar, an /etc/apt tree,
// to the parser and to e2e_mirror_candidates. "want.entries" is every
// enabled deb source as URI<TAB>SUITE, "want.candidates" the mirrors the
// rig would probe, in order. @ROOT@ in a file stands for the tree's root.
func TestAptSources(t *testing.T) {
	files, err := filepath.Glob("testdata/aptsources/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatal("no testdata/aptsources/*.txtar")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			root := t.TempDir()
			for _, f := range ar.Files {
				if strings.HasPrefix(f.Name, "want.") {
					continue
				}
				p := filepath.Join(root, f.Name)
				data := bytes.ReplaceAll(f.Data, []byte("@ROOT@"), []byte(root))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			etc := filepath.Join(root, "etc/apt")
			entries, stderr, code := script(t, nil, `
				f=(); [ -f "$1/sources.list" ] && f+=("$1/sources.list")
				for x in "$1"/sources.list.d/*.list "$1"/sources.list.d/*.sources; do [ -f "$x" ] && f+=("$x"); done
				[ ${#f[@]} -eq 0 ] || awk -f "$E2E_LIB/aptsources.awk" "${f[@]}"`, etc)
			if code != 0 {
				t.Fatalf("parser exited %d: %s", code, stderr)
			}
			cands, stderr, code := script(t, nil, `e2e_mirror_candidates "$1"`, etc)
			if code != 0 {
				t.Fatalf("e2e_mirror_candidates exited %d: %s", code, stderr)
			}
			got := map[string]string{
				"want.entries":    strings.ReplaceAll(entries, root, "@ROOT@"),
				"want.candidates": strings.ReplaceAll(cands, root, "@ROOT@"),
			}
			compareSections(t, file, ar, got)
		})
	}
}

// compareSections checks every want.* section of ar against got, or
// rewrites them under -update.
func compareSections(t *testing.T, file string, ar *txtar.Archive, got map[string]string) {
	t.Helper()
	seen := map[string]bool{}
	for i, f := range ar.Files {
		g, ok := got[f.Name]
		if !ok {
			continue
		}
		seen[f.Name] = true
		if *update {
			ar.Files[i].Data = []byte(g)
		} else if string(f.Data) != g {
			t.Errorf("%s: %s:\ngot:\n%s\nwant:\n%s", file, f.Name, g, f.Data)
		}
	}
	for name, g := range got {
		if !seen[name] {
			if !*update {
				t.Errorf("%s: no %s section (run go test -update)", file, name)
				continue
			}
			ar.Files = append(ar.Files, txtar.File{Name: name, Data: []byte(g)})
		}
	}
	if *update {
		if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// FuzzAptSources runs the parser on arbitrary files in both formats. It
// must always finish and succeed, and every line it prints must be a
// non-empty URI and suite, separated by one tab, both taken verbatim
// from the input (a URI may hold spaces inside [ ], as cdrom ones do).
func FuzzAptSources(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/aptsources/*.txtar")
	for _, s := range seeds {
		ar, err := txtar.ParseFile(s)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range ar.Files {
			if !strings.HasPrefix(file.Name, "want.") {
				f.Add(file.Data, strings.HasSuffix(file.Name, ".sources"))
			}
		}
	}
	f.Add([]byte("deb [ arch=amd64\n"), false)
	f.Add([]byte("Types: deb\nURIs:\n Suites: x\n"), true)
	awk, err := filepath.Abs("lib/aptsources.awk")
	if err != nil {
		f.Fatal(err)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte, deb822 bool) {
		name := filepath.Join(dir, "x.list")
		if deb822 {
			name = filepath.Join(dir, "x.sources")
		}
		if err := os.WriteFile(name, data, 0o644); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, "awk", "-f", awk, name).Output()
		if ctx.Err() != nil {
			t.Fatalf("parser did not finish on %q", data)
		}
		if err != nil {
			t.Fatalf("parser failed on %q: %v", data, err)
		}
		if len(out) == 0 {
			return
		}
		for _, line := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
			uri, suite, ok := strings.Cut(line, "\t")
			if !ok || uri == "" || suite == "" || strings.Contains(suite, "\t") {
				t.Fatalf("malformed line %q from %q", line, data)
			}
			if !bytes.Contains(data, []byte(uri)) || !bytes.Contains(data, []byte(suite)) {
				t.Fatalf("line %q is not from the input %q", line, data)
			}
		}
	})
}
