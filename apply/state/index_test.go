package state_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"trail/apply/kind"
	"trail/apply/state"
	"trail/internal/fsx"
	"trail/stepfmt"
)

// The index finds every entry put, whether merged into its sorted
// entries or not, the newest for a path put twice; it keeps them through
// a save and a load, and forgets what Keep drops.
func TestIndexEntries(t *testing.T) {
	file := filepath.Join(t.TempDir(), "index")
	ix := state.LoadIndex(file)
	const n = 3*4096 + 17
	key := func(i int) string { return kind.HashKey([]byte(fmt.Sprint(i))) }
	path := func(i int) string { return fmt.Sprintf("/srv/d%d/f%d", i%7, i) }
	for i := n - 1; i >= 0; i-- {
		ix.Put(path(i), fsx.Stat{Ino: uint64(i), Size: int64(i)}, key(i))
	}
	ix.Put(path(5), fsx.Stat{Ino: 5, Size: 6}, key(-5))
	check := func(ix *state.Index, what string, want int) {
		t.Helper()
		if ix.Len() != want {
			t.Fatalf("%s: %d entries, want %d", what, ix.Len(), want)
		}
		for i := 0; i < want; i++ {
			e, ok := ix.Entry(path(i))
			wk, size := key(i), int64(i)
			if i == 5 {
				wk, size = key(-5), 6
			}
			if !ok || e.Key != wk || e.Ino != uint64(i) || e.Size != size {
				t.Fatalf("%s: entry of %s is %+v, %v; want key %s size %d", what, path(i), e, ok, wk, size)
			}
		}
		if _, ok := ix.Entry("/srv/none"); ok {
			t.Fatalf("%s: an entry for a path never put", what)
		}
	}
	check(ix, "put", n)
	if k, ok := ix.Lookup(path(7), fsx.Stat{Ino: 7, Size: 7}); !ok || k != key(7) {
		t.Fatalf("lookup of a fresh entry: %q %v", k, ok)
	}
	if _, ok := ix.Lookup(path(7), fsx.Stat{Ino: 7, Size: 8}); ok {
		t.Fatal("lookup with another size found the entry")
	}
	if err := ix.Save(); err != nil {
		t.Fatal(err)
	}
	back := state.LoadIndex(file)
	check(back, "loaded", n)
	back.Keep(func(p string) bool {
		for i := 0; i < 100; i++ {
			if p == path(i) {
				return true
			}
		}
		return false
	})
	check(back, "kept", 100)
	if err := back.Save(); err != nil {
		t.Fatal(err)
	}
	check(state.LoadIndex(file), "kept and loaded", 100)
}

// An index written in another order, a path given twice, is read sorted
// with the last entry of the path.
func TestIndexUnsorted(t *testing.T) {
	file := filepath.Join(t.TempDir(), "index")
	a, b := kind.HashKey([]byte("a")), kind.HashKey([]byte("b"))
	text := "TRAIL-INDEX v1 asof=5\n" +
		"1 1 1 1 " + a[7:] + " /z\n" +
		"2 2 2 2 " + a[7:] + " /a\n" +
		"3 3 3 3 " + b[7:] + " /z\n"
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	ix := state.LoadIndex(file)
	if ix.Len() != 2 {
		t.Fatalf("%d entries, want 2", ix.Len())
	}
	if e, ok := ix.Entry("/z"); !ok || e.Key != b || e.Ino != 3 {
		t.Fatalf("/z is %+v %v, want its last entry", e, ok)
	}
	if e, ok := ix.Entry("/a"); !ok || e.Key != a {
		t.Fatalf("/a is %+v %v", e, ok)
	}
}

// Applied.Get finds every record whatever order it is asked in, the last
// of two with one identity, and nil for one it lacks; a record read back
// from the file it wrote finds the same, lines longer than its read
// window included, and its lines copied into a new record are the same.
func TestAppliedGet(t *testing.T) {
	dir := t.TempDir()
	var recs []*kind.Record
	for i := 0; i < 3000; i++ {
		r := &kind.Record{ID: stepfmt.ID{Kind: stepfmt.KindFile, Target: fmt.Sprintf("/f/%d", (i*37)%3000)}, Policy: kind.PolicyReport,
			Origin: kind.Absent(), Wrote: kind.Image{State: "file", Attrs: []stepfmt.Attr{{Key: "mode", Value: "0644"}}}}
		if i%1000 == 7 {
			r.Wrote.Attrs = append(r.Wrote.Attrs, stepfmt.Attr{Key: "note", Value: strings.Repeat("x y", 50000)})
		}
		recs = append(recs, r)
	}
	twice := &kind.Record{ID: recs[10].ID, Policy: kind.PolicyHeal, Origin: kind.Absent(), Wrote: kind.Absent()}
	file := filepath.Join(dir, "applied")
	a, err := state.WriteApplied(file, 4, 0, func(w *state.RecordWriter) error {
		for _, r := range append(recs, twice) {
			w.Put(r)
		}
		return nil
	})
	if err != nil || a == nil {
		t.Fatal(a, err)
	}
	check := func(a *state.Applied) {
		t.Helper()
		for _, order := range [][]int{{0, 1, 2, 3, 4, 5, 6, 7, 8}, {2999, 3, 17, 1007, 18, 19, 0}, {10, 11, 10, 2007}} {
			for _, i := range order {
				want := recs[i]
				if i == 10 {
					want = twice
				}
				got := a.Get(recs[i].ID)
				if got == nil || got.ID != want.ID || got.Policy != want.Policy || !got.Wrote.Equal(want.Wrote) || !got.Origin.Equal(want.Origin) {
					t.Fatalf("Get(%s) = %v, want %v", recs[i].ID, got, want)
				}
			}
		}
		if r := a.Get(stepfmt.ID{Kind: stepfmt.KindDir, Target: "/f/1"}); r != nil || a.Has(stepfmt.ID{Kind: stepfmt.KindDir, Target: "/f/1"}) {
			t.Fatalf("Get of an identity not recorded: %v", r)
		}
		if a.Err() != nil {
			t.Fatal(a.Err())
		}
	}
	check(a)
	copied := filepath.Join(dir, "copied")
	b, err := state.WriteApplied(copied, 5, len(recs), func(w *state.RecordWriter) error {
		for i := len(recs) - 1; i >= 0; i-- {
			if !w.Copy(a, recs[i].ID) {
				t.Fatalf("no line of %s to copy", recs[i].ID)
			}
		}
		return nil
	})
	if err != nil || b == nil {
		t.Fatal(b, err)
	}
	a.Close()
	check(b)
	b.Close()
	c, err := state.LoadApplied(copied)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Len() != len(recs) || c.Generation != 5 {
		t.Fatalf("%d records of generation %d, want %d of 5", c.Len(), c.Generation, len(recs))
	}
	check(c)
	n := len(recs)
	c.Each(func(r *kind.Record) error {
		if n--; r.ID != recs[n].ID {
			t.Fatalf("record %d is %s, want %s", n, r.ID, recs[n].ID)
		}
		return nil
	})
}

// A record file leaves no name in its directory, and finds the later of
// two records of one target.
func TestRecordFile(t *testing.T) {
	dir := t.TempDir()
	p, err := state.NewRecordFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("a record file shows in its directory: %v", ents)
	}
	id := func(i int) stepfmt.ID { return stepfmt.ID{Kind: stepfmt.KindDir, Target: fmt.Sprintf("/d/%d", i)} }
	for i := 0; i < 5000; i++ {
		p.Put(&kind.Record{ID: id(i), Policy: kind.PolicyReport, Origin: kind.Absent(), Wrote: kind.Image{State: "dir"}})
	}
	p.Put(&kind.Record{ID: id(7), Policy: kind.PolicyHeal, Origin: kind.Absent(), Wrote: kind.Image{State: "dir"}})
	a, err := p.Records()
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{4999, 0, 7, 2500} {
		want := kind.PolicyReport
		if i == 7 {
			want = kind.PolicyHeal
		}
		if r := a.Get(id(i)); r == nil || r.ID != id(i) || r.Policy != want {
			t.Fatalf("Get(%s) = %v, want policy %s", id(i), r, want)
		}
	}
	if a.Get(id(5000)) != nil || a.Err() != nil {
		t.Fatal(a.Err())
	}
}

// A record whose file is cut short after it was read finds no line past
// the cut and says why, rather than reading again and again.
func TestAppliedCutShort(t *testing.T) {
	file := filepath.Join(t.TempDir(), "applied")
	var recs []*kind.Record
	for i := 0; i < 2000; i++ {
		recs = append(recs, &kind.Record{ID: stepfmt.ID{Kind: stepfmt.KindDir, Target: fmt.Sprintf("/d/%d", i)},
			Policy: kind.PolicyReport, Origin: kind.Absent(), Wrote: kind.Image{State: "dir"}})
	}
	a, err := state.WriteApplied(file, 1, len(recs), func(w *state.RecordWriter) error {
		for _, r := range recs {
			w.Put(r)
		}
		return nil
	})
	if err != nil || a == nil {
		t.Fatal(a, err)
	}
	defer a.Close()
	fi, _ := os.Stat(file)
	if err := os.Truncate(file, fi.Size()/2+3); err != nil {
		t.Fatal(err)
	}
	// From the last back to the first whole line: those past the cut,
	// and the one it cuts in two, are not found.
	for i := len(recs) - 1; i >= 0; i-- {
		if r := a.Get(recs[i].ID); r != nil {
			if i == len(recs)-1 || i < len(recs)/3 {
				t.Fatalf("Get(%s) found it, with the file cut in half", recs[i].ID)
			}
			break
		}
	}
	if a.Err() == nil {
		t.Fatal("no error for lines cut off")
	}
}

// An entry loaded racily clean (its ctime as recent as the index) stays
// untrusted after the index is saved again, later, by an operation that
// never looked at it: an apply of a few files, which copies the index's
// lines, or one that removes steps, which parses it whole. The save's
// later time must not make a file changed in the tick it was hashed in
// pass for clean.
func TestIndexRacyEntryAfterSave(t *testing.T) {
	for _, whole := range []bool{false, true} {
		file := filepath.Join(t.TempDir(), "index")
		asOf := time.Now().Add(-time.Second).UnixNano()
		old := fsx.Stat{Ino: 8, Size: 3, Mtime: asOf - 1e12, Ctime: asOf - 1e12}
		racy := fsx.Stat{Ino: 7, Size: 3, Mtime: asOf - 1e6, Ctime: asOf - 1e6}
		ka, kz := kind.HashKey([]byte("a")), kind.HashKey([]byte("z"))
		line := func(st fsx.Stat, key, p string) string {
			return fmt.Sprintf("%d %d %d %d %s %s\n", st.Ino, st.Size, st.Mtime, st.Ctime, strings.TrimPrefix(key, "sha256:"), p)
		}
		text := fmt.Sprintf("TRAIL-INDEX v1 asof=%d\n", asOf) + line(old, ka, "/etc/a") + line(racy, kz, "/etc/z")
		if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		ix := state.LoadIndex(file)
		if whole {
			ix.Len()
		}
		ix.Put("/etc/b", fsx.Stat{Ino: 9, Size: 1}, kind.HashKey([]byte("b")))
		if err := ix.Save(); err != nil {
			t.Fatal(err)
		}
		for what, ix := range map[string]*state.Index{"in process": ix, "loaded again": state.LoadIndex(file)} {
			if k, ok := ix.Lookup("/etc/z", racy); ok {
				t.Errorf("whole %v, %s: the racy entry of /etc/z is trusted after a save (%s)", whole, what, k)
			}
			if k, ok := ix.Lookup("/etc/a", old); !ok || k != ka {
				t.Errorf("whole %v, %s: the entry of /etc/a, hashed long before, gives %q, %v", whole, what, k, ok)
			}
		}
	}
}
