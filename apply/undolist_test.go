package apply

import (
	"runtime"
	"testing"

	"trail/apply/kind"
)

// The run's list of journaled changes holds 4 bytes for a change whose
// undo is a bare absent (every change of a first apply), keeps an image
// apart for the others, and an amend replaces either.
func TestUndoListHoldsLittlePerChange(t *testing.T) {
	const n = 100000
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	before := m.HeapAlloc
	l := undoList{at: make([]int32, 0, n)}
	for i := range n {
		l.add(journaledAs(i, kind.Absent()))
	}
	runtime.GC()
	runtime.ReadMemStats(&m)
	per := float64(int64(m.HeapAlloc)-int64(before)) / n
	runtime.KeepAlive(&l)
	if per > 5 {
		t.Fatalf("%.1f bytes a bare change, want at most 5", per)
	}
	img := kind.Image{State: "file"}
	l.set(7, journaledAs(7, img))
	l.add(journaledAs(-1, img))
	if u := l.get(7); u.i != 7 || u.image().State != "file" {
		t.Fatalf("amended change 7: %+v", u)
	}
	if u := l.get(n); u.i != -1 || u.image().State != "file" {
		t.Fatalf("guard: %+v", u)
	}
	l.set(7, journaledAs(7, kind.Absent()))
	if u := l.get(7); u.img != nil || len(l.imgs) != 1 || l.get(8).img != nil {
		t.Fatalf("amended back to bare: %+v, %d images kept", u, len(l.imgs))
	}
}
