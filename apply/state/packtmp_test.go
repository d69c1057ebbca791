package state

import (
	"fmt"
	"testing"

	"trail/apply/kind"
)

// Two writers of one store, one flushing while the other's flush has
// written its pack: the index each writes is not taken for the other's,
// whose blobs stay its own (their temporary files have no name, or one
// of their own, whatever their pids).
func TestPackIndexTempOwn(t *testing.T) {
	dir := t.TempDir()
	a, b := mustOpen(t, dir), mustOpen(t, dir)
	blobs := func(who string) [][]byte {
		var out [][]byte
		for i := range 100 {
			out = append(out, fmt.Appendf(nil, "%s %d\n", who, i))
		}
		return out
	}
	if _, err := a.StageMany(blobs("a")); err != nil {
		t.Fatal(err)
	}
	defer func() { crashPoint = nil }()
	crashPoint = func(p string) {
		if p != "pack written" {
			return
		}
		crashPoint = nil
		if _, err := b.PutMany(blobs("b")); err != nil {
			t.Errorf("b: %v", err)
		}
	}
	if err := a.Flush(); err != nil {
		t.Fatalf("a: %v", err)
	}
	s := mustOpen(t, dir)
	for _, who := range []string{"a", "b"} {
		for _, bl := range blobs(who) {
			if got, err := s.Get(kind.HashKey(bl)); err != nil || string(got) != string(bl) {
				t.Fatalf("%q: %q, %v", bl, got, err)
			}
		}
	}
}
