package report

import (
	"flag"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
)

var update = flag.Bool("update", false, "rewrite the golden testdata/*.txtar files from the current output")

// golden compares got, keyed by case name, with the sections of the txtar
// file testdata/<name>.txtar, or rewrites that file under -update.
func golden(t *testing.T, name, comment string, got map[string]string) {
	t.Helper()
	path := filepath.Join("testdata", name+".txtar")
	if *update {
		a := &txtar.Archive{Comment: []byte(comment + "\n")}
		for _, k := range slices.Sorted(maps.Keys(got)) {
			a.Files = append(a.Files, txtar.File{Name: k, Data: []byte(got[k])})
		}
		if err := os.WriteFile(path, txtar.Format(a), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	a, err := txtar.ParseFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	want := map[string]string{}
	for _, f := range a.Files {
		want[f.Name] = string(f.Data)
	}
	for _, k := range slices.Sorted(maps.Keys(got)) {
		w, ok := want[k]
		if !ok {
			t.Errorf("%s: no section %q (run go test -update)", path, k)
		} else if got[k] != w {
			t.Errorf("%s: %s:\n got %q\nwant %q", path, k, got[k], w)
		}
	}
	for k := range want {
		if _, ok := got[k]; !ok {
			t.Errorf("%s: section %q has no test case", path, k)
		}
	}
}
