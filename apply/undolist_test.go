package apply

import (
	"crypto/sha256"
	"fmt"
	"runtime"
	"testing"

	"trail/apply/kind"
	"trail/stepfmt"
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
	if u := mustGet(t, &l, 7); u.i != 7 || u.image().State != "file" {
		t.Fatalf("amended change 7: %+v", u)
	}
	if u := mustGet(t, &l, n); u.i != -1 || u.image().State != "file" {
		t.Fatalf("guard: %+v", u)
	}
	l.set(7, journaledAs(7, kind.Absent()))
	if u := mustGet(t, &l, 7); u.img != nil || l.kept() != 1 || mustGet(t, &l, 8).img != nil {
		t.Fatalf("amended back to bare: %+v, %d images kept", u, l.kept())
	}
}

// A take-over's undo images are all files, each with its content, mode
// and owner: the list keeps them as their text deflated, read back whole
// in order and out of it. With content keys as random as real ones, an
// image held 160 bytes as plain text and an index map entry, 65 deflated.
func TestUndoListKeepsFileImagesAsText(t *testing.T) {
	const n = 100000
	file := func(i int) kind.Image {
		key := fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(fmt.Sprint(i))))
		return kind.Image{State: "file", Attrs: []stepfmt.Attr{{Key: "content", Value: key},
			{Key: "mode", Value: "0644"}, {Key: "uid", Value: "0"}, {Key: "gid", Value: "0"}}}
	}
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	before := m.HeapAlloc
	l := undoList{at: make([]int32, 0, n)}
	for i := range n {
		l.add(journaledAs(i, file(i)))
	}
	runtime.GC()
	runtime.ReadMemStats(&m)
	per := float64(int64(m.HeapAlloc)-int64(before)) / n
	runtime.KeepAlive(&l)
	t.Logf("%.1f bytes a file image", per)
	if per > 80 {
		t.Fatalf("%.1f bytes a file's undo image, want at most 80 (about 160 as plain text)", per)
	}
	for _, i := range []int{0, 1, 4096, 4095, n - 1, n - 2, 50000} {
		if u := mustGet(t, &l, i); int(u.i) != i || !u.image().Equal(file(i)) {
			t.Fatalf("change %d: %+v, want %v", i, u, file(i))
		}
	}
}

func mustGet(t *testing.T, l *undoList, j int) journaled {
	t.Helper()
	u, err := l.get(j)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
