package state_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"trail/apply/state"
)

// A blob staged twice before a flush is written once; one staged again
// after an abort is staged anew, as the abort removed its first copy.
func TestStagePending(t *testing.T) {
	s, err := state.NewStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.Stage(strings.NewReader("a"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Stage(strings.NewReader("a")); err != nil {
		t.Fatal(err)
	}
	if tmp, _ := os.ReadDir(filepath.Join(s.Dir, "tmp")); len(tmp) != 1 {
		t.Fatalf("two stagings of one blob left %d temporary files, want 1", len(tmp))
	}
	s.Abort()
	if _, err := s.Stage(strings.NewReader("a")); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if !s.Has(a) {
		t.Fatalf("%s staged again after an abort and flushed is not in the store", a)
	}
	if _, err := s.Stage(strings.NewReader("b")); err != nil {
		t.Fatal(err)
	}
	s.Abort()
	if tmp, _ := os.ReadDir(filepath.Join(s.Dir, "tmp")); len(tmp) != 0 {
		t.Fatalf("an abort left %d temporary files", len(tmp))
	}
}

// BenchmarkStagePending stages b.N distinct blobs and flushes once: each
// staging looks up what is pending, which must not grow with it.
func BenchmarkStagePending(b *testing.B) {
	s, err := state.NewStore(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; b.Loop(); i++ {
		if _, err := s.Stage(strings.NewReader(strconv.Itoa(i))); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Flush(); err != nil {
		b.Fatal(err)
	}
}
