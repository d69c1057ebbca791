package state

import (
	"bytes"
	"os"
	"slices"
	"testing"

	"trail/apply/kind"
	"trail/stepfmt"
)

// collide gives every entry of a the hash of id, as if the identities of
// its targets all hashed alike.
func collide(a *Applied, id stepfmt.ID) {
	h := hashID(id.Kind, id.Target)
	for i := range a.ents {
		a.ents[i].hash = h
	}
	slices.SortFunc(a.ents, compareEnt)
}

// Targets whose identities hash alike are told apart by their lines: Get
// finds the one asked for (not the last line of the hash), and they are
// not taken for one target recorded twice.
func TestAppliedHashCollision(t *testing.T) {
	rec := func(p string) string { return "DIR\t" + p + "\treport\tabsent\tdir\n" }
	a, err := ParseApplied("applied", []byte(AppliedHeader+"1\n"+rec("/a")+rec("/b")+rec("/c")))
	if err != nil {
		t.Fatal(err)
	}
	id := stepfmt.ID{Kind: stepfmt.KindDir, Target: "/a"}
	collide(a, id)
	if err := a.twice("applied"); err != nil {
		t.Fatalf("three targets of one hash: %v", err)
	}
	for _, unique := range []bool{true, false} {
		a.unique, a.next, a.last = unique, 0, nil
		for range 2 {
			if r := a.Get(id); r == nil || r.ID != id {
				t.Fatalf("unique %v: Get(%s) = %v", unique, id, r)
			}
			if l, ok := a.Line(id); !ok || string(l)+"\n" != rec("/a") {
				t.Fatalf("unique %v: Line(%s) = %q, %v", unique, id, l, ok)
			}
		}
	}
	if err := a.Err(); err != nil {
		t.Fatal(err)
	}
	// Recorded twice among others of its hash, it is still found so.
	data := []byte(AppliedHeader + "1\n" + rec("/b") + rec("/a") + rec("/c") + rec("/a"))
	a = &Applied{src: bytes.NewReader(data), size: int64(len(data))}
	for off := bytes.IndexByte(data, '\n') + 1; off < len(data); off += bytes.IndexByte(data[off:], '\n') + 1 {
		a.ents = append(a.ents, recordEnt{off: int64(off)})
	}
	collide(a, id)
	if err := a.twice("applied"); err == nil || err.Error() != "applied:5: DIR /a recorded twice" {
		t.Fatalf("got %v, want applied:5: DIR /a recorded twice", err)
	}
}

// The records of an apply are kept in a file that has no name in the
// state directory, made with O_TMPFILE or, where the file system cannot,
// removed as soon as it is made; of two records of one target the later
// counts, also among targets whose identities hash alike.
func TestRecordFileFallback(t *testing.T) {
	for name, make := range map[string]func(string) (*RecordFile, error){
		"O_TMPFILE": NewRecordFile, "removed": newRemovedRecordFile,
	} {
		dir := t.TempDir()
		p, err := make(dir)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 0 {
			t.Fatalf("%s: the state directory holds %s", name, ents[0].Name())
		}
		put := func(target, policy string) {
			id := stepfmt.ID{Kind: stepfmt.KindDir, Target: target}
			if err := p.Put(&kind.Record{ID: id, Policy: policy, Origin: kind.Absent(), Wrote: kind.Image{State: "dir"}}); err != nil {
				t.Fatal(err)
			}
		}
		put("/a", kind.PolicyReport)
		put("/b", kind.PolicyReport)
		put("/a", kind.PolicyHeal)
		a, err := p.Records()
		if err != nil {
			t.Fatal(err)
		}
		a_ := stepfmt.ID{Kind: stepfmt.KindDir, Target: "/a"}
		b := stepfmt.ID{Kind: stepfmt.KindDir, Target: "/b"}
		for _, colliding := range []bool{false, true} {
			if colliding {
				collide(a, a_)
				a.last = nil
				// b's own hash is no longer in the index.
				if a.Has(b) {
					t.Fatalf("%s: %s found under another hash", name, b)
				}
			} else if r := a.Get(b); r == nil || r.ID != b {
				t.Fatalf("%s: Get(%s) = %v", name, b, r)
			}
			if r := a.Get(a_); r == nil || r.ID != a_ || r.Policy != kind.PolicyHeal {
				t.Fatalf("%s (colliding %v): Get(%s) = %+v, want the later record", name, colliding, a_, r)
			}
		}
		if err := a.Err(); err != nil {
			t.Fatal(err)
		}
		p.Close()
		if ents, _ := os.ReadDir(dir); len(ents) != 0 {
			t.Fatalf("%s: the state directory holds %s", name, ents[0].Name())
		}
	}
}
