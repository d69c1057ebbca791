package state

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"trail/apply/kind"
	"trail/internal/fsx"
)

// An index loaded and changed in a few entries (what an apply of a few
// files does) is neither parsed nor printed whole, and saves exactly
// the text an index parsed whole saves: its lines as they were, the
// entries put in their places, sorted, one line a path.
func TestIndexRawSave(t *testing.T) {
	dir := t.TempDir()
	key := func(i int) string { return kind.HashKey([]byte(fmt.Sprint(i))) }
	path := func(i int) string { return fmt.Sprintf("/srv/d%d/f%d", i%3, i) }
	ix := LoadIndex(filepath.Join(dir, "index"))
	for i := range 500 {
		ix.Put(path(i), fsx.Stat{Ino: uint64(i), Size: 1}, key(i))
	}
	ix.Put("/srv/a b", fsx.Stat{Ino: 9999, Size: 1}, key(9999))
	if err := ix.Save(); err != nil {
		t.Fatal(err)
	}
	change := func(ix *Index) {
		ix.Put(path(7), fsx.Stat{Ino: 7, Size: 2}, key(-7))        // replaced
		ix.Put("/srv/d1/f7x", fsx.Stat{Ino: 70, Size: 1}, key(70)) // new, among the others
		ix.Put("/aaa", fsx.Stat{Ino: 71, Size: 1}, key(71))        // new, first
		ix.Put("/zzz", fsx.Stat{Ino: 72, Size: 1}, key(72))        // new, last
		ix.Put("/srv/a b", fsx.Stat{Ino: 9999, Size: 3}, key(-9999))
	}
	for _, whole := range []bool{false, true} {
		src, _ := os.ReadFile(filepath.Join(dir, "index"))
		file := filepath.Join(dir, fmt.Sprint("index-", whole))
		os.WriteFile(file, src, 0o600)
		ix := LoadIndex(file)
		if ix.text == nil {
			t.Fatal("a loaded index is parsed at once")
		}
		if whole {
			ix.Len()
		}
		if k, ok := ix.Lookup(path(3), fsx.Stat{Ino: 3, Size: 1}); !ok || k != key(3) {
			t.Fatalf("whole %v: lookup %q, %v", whole, k, ok)
		}
		change(ix)
		if e, ok := ix.Entry(path(7)); !ok || e.Key != key(-7) || e.Size != 2 {
			t.Fatalf("whole %v: the entry put: %+v, %v", whole, e, ok)
		}
		if err := ix.Save(); err != nil {
			t.Fatal(err)
		}
		if !whole && ix.text == nil {
			t.Fatal("a few entries put and saved parsed the index whole")
		}
	}
	body := func(name string) string {
		data, _ := os.ReadFile(filepath.Join(dir, name))
		_, b, _ := strings.Cut(string(data), "\n")
		return b
	}
	if raw, parsed := body("index-false"), body("index-true"); raw != parsed {
		t.Fatalf("saved from raw:\n%s\nsaved parsed whole:\n%s", raw, parsed)
	}
	back := LoadIndex(filepath.Join(dir, "index-false"))
	if back.Len() != 504 {
		t.Fatalf("%d entries after the save, want 504", back.Len())
	}
}

// A loaded index whose last line was cut short (a torn write) is read
// without it; a damaged line is an entry not found until the index is
// parsed whole, which drops it all, as a load of a damaged index did.
func TestIndexRawDamage(t *testing.T) {
	k := kind.HashKey([]byte("x"))[len("sha256:"):]
	text := "TRAIL-INDEX v1 asof=1000000000\n" +
		"1 1 0 0 " + k + " /a\n" +
		"2 1 0 0 nothex /b\n" +
		"3 1 0 0 " + k + " /c\n" +
		"4 1 0 0 " + k + " /d"
	file := filepath.Join(t.TempDir(), "index")
	os.WriteFile(file, []byte(text), 0o600)
	ix := LoadIndex(file)
	for _, c := range []struct {
		p   string
		ino uint64
		ok  bool
	}{{"/a", 1, true}, {"/b", 2, false}, {"/c", 3, true}, {"/d", 4, false}} {
		if _, ok := ix.Lookup(c.p, fsx.Stat{Ino: c.ino, Size: 1}); ok != c.ok {
			t.Fatalf("lookup of %s: %v, want %v", c.p, ok, c.ok)
		}
	}
	if ix.Len() != 0 {
		t.Fatalf("a damaged index parsed whole keeps %d entries", ix.Len())
	}
}

// An index file read as text finds what the same file parsed whole
// finds, for every path it holds and for paths it does not, whenever the
// file is as Save writes it (sorted by path, one line a path); and a
// save from the text is the parsed index's save.
func FuzzIndexText(f *testing.F) {
	k := kind.HashKey([]byte("x"))[len("sha256:"):]
	f.Add("TRAIL-INDEX v1 asof=5\n1 2 3 4 "+k+" /a\n5 6 7 8 "+k+" \"/a b\"\n9 1 2 3 "+k+" /b/c\n", "/a b")
	f.Add("TRAIL-INDEX v1 asof=5\n1 2 3 4 "+k+" /etc/x\n", "/etc")
	f.Fuzz(func(t *testing.T, text, probe string) {
		whole, err := ParseIndex([]byte(text))
		if err != nil || !strings.HasSuffix(text, "\n") || whole.Len() != strings.Count(text, "\n")-1 {
			return
		}
		file := filepath.Join(t.TempDir(), "index")
		os.WriteFile(file, []byte(text), 0o600)
		ix := LoadIndex(file)
		defer ix.Close()
		for _, e := range whole.ents {
			got, ok := ix.Entry(e.path)
			if !ok || got != e.public() {
				t.Fatalf("%q: text %+v %v, parsed %+v", e.path, got, ok, e.public())
			}
		}
		want, wok := whole.Entry(probe)
		if got, ok := ix.Entry(probe); ok != wok || got != want {
			t.Fatalf("probe %q: text %+v %v, parsed %+v %v", probe, got, ok, want, wok)
		}
	})
}

// A look at every entry in the order of the file (a drift check of a
// tree) reads the text in turn and does not parse it whole; one out of
// order parses it whole after a few searches, and finds the same.
func TestIndexTextInOrder(t *testing.T) {
	file := filepath.Join(t.TempDir(), "index")
	ix := LoadIndex(file)
	key := func(i int) string { return kind.HashKey([]byte(fmt.Sprint(i))) }
	path := func(i int) string { return fmt.Sprintf("/srv/f%05d", i) }
	const n = 5000
	for i := range n {
		ix.Put(path(i), fsx.Stat{Ino: uint64(i), Size: 1}, key(i))
	}
	if err := ix.Save(); err != nil {
		t.Fatal(err)
	}
	for _, order := range []string{"in order", "backwards"} {
		ix := LoadIndex(file)
		for j := range n {
			i := j
			if order == "backwards" {
				i = n - 1 - j
			}
			if e, ok := ix.Entry(path(i)); !ok || e.Key != key(i) || e.Ino != uint64(i) {
				t.Fatalf("%s: %s: %+v, %v", order, path(i), e, ok)
			}
		}
		if parsed := ix.text == nil; parsed != (order == "backwards") {
			t.Fatalf("%s: parsed whole %v", order, parsed)
		}
		ix.Close()
	}
}

// The index's own parse of a number agrees with strconv wherever it
// answers, and answers for every number Save writes.
func FuzzIndexDecimal(f *testing.F) {
	for _, s := range []string{"0", "-0", "-", "+5", "007", "123456789012345678", "-123456789012345678", "9223372036854775807",
		"9223372036854775808", "-9223372036854775808", "-9223372036854775809", "9999999999999999999", "18446744073709551615", "1e3", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if n, ok := decimal([]byte(s), false); ok {
			if want, err := strconv.ParseUint(s, 10, 64); err != nil || want != n {
				t.Fatalf("unsigned %q: %d, strconv %d %v", s, n, want, err)
			}
		}
		if n, ok := decimal([]byte(s), true); ok {
			if want, err := strconv.ParseInt(s, 10, 64); err != nil || want != int64(n) {
				t.Fatalf("signed %q: %d, strconv %d %v", s, int64(n), want, err)
			}
		}
		if v, err := strconv.ParseInt(s, 10, 64); err == nil && s == strconv.FormatInt(v, 10) {
			if n, ok := decimal([]byte(s), true); !ok || int64(n) != v {
				t.Fatalf("%q as Save writes it: %d, %v", s, int64(n), ok)
			}
		}
		if v, err := strconv.ParseUint(s, 10, 64); err == nil && s == strconv.FormatUint(v, 10) && len(s) <= 19 {
			if n, ok := decimal([]byte(s), false); !ok || n != v {
				t.Fatalf("%q as Save writes it, unsigned: %d, %v", s, n, ok)
			}
		}
	})
}
