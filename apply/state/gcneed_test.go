package state

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"trail/apply/kind"
	"trail/stepfmt"
)

// goldenTexts returns every text of the repository's golden files that
// could be a step list or an applied record, by where it comes from, with
// apply's {text} standing for the store key of text.
func goldenTexts(t testing.TB) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	brace := regexp.MustCompile(`\{([^{}\n]*)\}`)
	for _, glob := range []string{"../testdata/*.txtar", "../../stepfmt/testdata/*/*.txtar",
		"../../cmd/trail/testdata/script/*.txtar", "../../report/testdata/*.txtar", "../../examples/steps/*.steps"} {
		files, _ := filepath.Glob(glob)
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(file, ".txtar") {
				out[file] = data
				continue
			}
			for _, f := range txtar.Parse(data).Files {
				out[file+":"+f.Name] = brace.ReplaceAllFunc(f.Data, func(b []byte) []byte {
					return []byte(kind.HashKey(b[1 : len(b)-1]))
				})
			}
		}
	}
	if len(out) < 100 {
		t.Fatalf("found %d golden texts, want the repository's", len(out))
	}
	return out
}

// listKeys returns the store keys a step list names, parsed: what gc
// kept before it read lists as text.
func listKeys(l *stepfmt.List) map[string]bool {
	need := map[string]bool{}
	for _, s := range l.Steps {
		for _, a := range s.Attrs {
			if kind.CheckKey(a.Value) == nil {
				need[a.Value] = true
			}
		}
	}
	return need
}

// recordKeys returns the store keys an applied record names, parsed.
func recordKeys(t *testing.T, a *Applied) map[string]bool {
	need := map[string]bool{}
	err := a.Each(func(r *kind.Record) error {
		for _, k := range append(r.Origin.Blobs(), r.Wrote.Blobs()...) {
			if kind.CheckKey(k) == nil {
				need[k] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return need
}

// missed returns the keys of want the need set lacks.
func missed(n *needSet, want map[string]bool) []string {
	var out []string
	for k := range want {
		if !n.has(strings.TrimPrefix(k, "sha256:")) {
			out = append(out, k)
		}
	}
	return out
}

// TestNeedScanCoversParse: the text scan of every golden step list, as
// the state saves it (printed), and of every golden applied record, read
// as gc reads them, in order and each list against the one before, needs
// every store key the parser finds in them, so that gc removes nothing a
// parse would have kept.
func TestNeedScanCoversParse(t *testing.T) {
	dir := t.TempDir()
	n := newNeedSet()
	lists, records := 0, 0
	want := map[string]bool{}
	for name, text := range goldenTexts(t) {
		file := filepath.Join(dir, strconv.Itoa(lists+records))
		if bytes.HasPrefix(text, []byte(AppliedHeader)) {
			a, err := ParseApplied(name, text)
			if err != nil {
				continue
			}
			if err := os.WriteFile(file, a.Format(), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := n.addApplied(file); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			keys := recordKeys(t, a)
			if m := missed(n, keys); len(m) > 0 {
				t.Fatalf("%s: the text scan of the applied record misses %v", name, m)
			}
			records++
			continue
		}
		l, errs := stepfmt.Parse(name, text)
		if len(errs) > 0 || len(l.Steps) == 0 {
			continue
		}
		if err := os.WriteFile(file, stepfmt.Format(l), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := n.addSteps(file); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for k := range listKeys(l) {
			want[k] = true
		}
		if m := missed(n, want); len(m) > 0 {
			t.Fatalf("%s: read against the list before it, the text scans so far miss %v", name, m)
		}
		lists++
	}
	t.Logf("%d step lists and %d applied records, %d keys", lists, records, len(want))
	if lists < 20 || records < 1 {
		t.Fatalf("%d step lists and %d applied records parsed: the golden files are not found as they were", lists, records)
	}
}

// FuzzNeedScanRecord: the text scan of an applied record line needs every
// store key its images name, parsed, whatever the attribute's name and
// whatever else the images hold (quoted values, a secret, a sealed
// pre-image, a tree's archive, a USER's password).
func FuzzNeedScanRecord(f *testing.F) {
	k := kind.HashKey([]byte("a"))
	f.Add("content", k, "mode", "0644", false)
	f.Add("password", k, "comment", "a b\tc\"d", false)
	f.Add("sealed", "age", "content", k, false)
	f.Add("x_Y-9", k, "to", "sha256:"+k, true)
	f.Add("content", k, "secret", "age", true)
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string, pre bool) {
		img := kind.Image{State: "file", Attrs: []stepfmt.Attr{{Key: k1, Value: v1}, {Key: k2, Value: v2},
			{Key: "content", Value: kind.HashKey([]byte(v1 + v2))}}}
		if _, err := kind.ParseImage(img.String()); err != nil {
			return // not an image trail writes
		}
		r := &kind.Record{ID: stepfmt.ID{Kind: stepfmt.KindFile, Target: "/etc/x"}, Policy: kind.PolicyReport, Wrote: img}
		if pre {
			r.Origin, r.Wrote = img, kind.Absent()
		}
		var b bytes.Buffer
		b.WriteString(AppliedHeader + "1\n")
		bw := &bytes.Buffer{}
		writeRecord(bw, r)
		b.Write(bw.Bytes())
		a, err := ParseApplied("applied", b.Bytes())
		if err != nil {
			t.Fatalf("the record trail writes does not parse: %v\n%s", err, b.Bytes())
		}
		n := newNeedSet()
		n.addText(b.Bytes())
		if m := missed(n, recordKeys(t, a)); len(m) > 0 {
			t.Fatalf("the text scan of %q misses %v", b.Bytes(), m)
		}
	})
}

// FuzzNeedScanLists: two step lists as the state saves them, read as gc
// reads them (the second against the first), need every store key either
// names, parsed, however the second differs from the first.
func FuzzNeedScanLists(f *testing.F) {
	var prev []byte
	for _, text := range goldenTextsOf(f) {
		if _, errs := stepfmt.Parse("steps", text); len(errs) == 0 {
			if prev != nil {
				f.Add(prev, text)
			}
			prev = text
		}
	}
	// A line inserted, changed, removed, two in a row, and a key moved.
	k := func(s string) string { return kind.HashKey([]byte(s)) }
	x, y, z := "FILE /x "+k("x")+" @x:1\n", "FILE /y "+k("y")+" @y:1\n", "FILE /z "+k("z")+" @z:1\n"
	f.Add([]byte(x+z), []byte(y+x+z))
	f.Add([]byte(x+z), []byte(x+"FILE /z "+k("z2")+" @z:1\n"))
	f.Add([]byte(x+y+z), []byte(x+z))
	f.Add([]byte(x), []byte(y+z+x))
	f.Add([]byte(x+y), []byte("FILE /x "+k("y")+" @x:1\n"+"FILE /y "+k("x")+" @y:1\n"))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		la, errs := stepfmt.Parse("steps", a)
		if len(errs) > 0 {
			return
		}
		lb, errs := stepfmt.Parse("steps", b)
		if len(errs) > 0 {
			return
		}
		dir := t.TempDir()
		n := newNeedSet()
		want := listKeys(la)
		for i, l := range []*stepfmt.List{la, lb} {
			file := filepath.Join(dir, strconv.Itoa(i))
			if err := os.WriteFile(file, stepfmt.Format(l), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := n.addSteps(file); err != nil {
				t.Fatal(err)
			}
		}
		for k := range listKeys(lb) {
			want[k] = true
		}
		if m := missed(n, want); len(m) > 0 {
			t.Fatalf("the text scans of\n%s\nthen\n%s\nmiss %v", stepfmt.Format(la), stepfmt.Format(lb), m)
		}
	})
}

// goldenTextsOf is goldenTexts in the order of their names.
func goldenTextsOf(t testing.TB) [][]byte {
	g := goldenTexts(t)
	var out [][]byte
	for _, name := range slices.Sorted(maps.Keys(g)) {
		out = append(out, g[name])
	}
	return out
}
