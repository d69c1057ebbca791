package apply

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"trail/apply/state"
)

// A status reads the applied record twice (the store check, the drift
// check), the second time without checking each line again when the file
// is the one the first read checked whole. A record changed since, even
// in place, is checked again: its damage is the drift check's error.
func TestDriftChecksAChangedRecord(t *testing.T) {
	sb := newSandbox(t)
	sb.apply("FILE /etc/a {a}\nFILE /etc/b {b} mode=0600", "c1")
	for range 2 {
		if p, err := sb.e.CheckBlobs(); err != nil || len(p) != 0 {
			t.Fatalf("store check: %v, %v", p, err)
		}
		if d, err := sb.e.Drift(); err != nil || len(d) != 0 {
			t.Fatalf("drift: %v, %v", d, err)
		}
	}
	file := sb.e.path(state.FileApplied)
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	// The same size, an image that does not parse.
	bad := bytes.Replace(data, []byte("mode=0600"), []byte("mode_0600"), 1)
	if bytes.Equal(bad, data) {
		t.Fatalf("the record has no mode=0600:\n%s", data)
	}
	f, err := os.OpenFile(file, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt(bad, 0)
	f.Close()
	if _, err := sb.e.Drift(); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("drift of a record damaged in place: %v; want it damaged", err)
	}
	if _, err := sb.e.CheckBlobs(); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("store check of a record damaged in place: %v; want it damaged", err)
	}
}
