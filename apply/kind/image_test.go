package kind

import "testing"

// An image is parsed with its attributes allocated once, at their number:
// the applied record parses one or two images a target, and growing each
// slice by appends allocated three times as often and twice the bytes.
func TestParseImageAllocatesAttrsOnce(t *testing.T) {
	line := "file content=sha256:f73edf3010e7760ab2690c4262382ffb14829cdb74e3c10869b2838bb3b36f30 mode=0644 uid=0 gid=0"
	var m Image
	allocs := testing.AllocsPerRun(100, func() {
		var err error
		if m, err = ParseImage(line); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 1 || len(m.Attrs) != 4 || cap(m.Attrs) != 4 {
		t.Fatalf("parsing %q allocated %v times, attributes %d of capacity %d; want once, 4 of 4", line, allocs, len(m.Attrs), cap(m.Attrs))
	}
	if m.String() != line {
		t.Fatalf("parsed %q prints as %q", line, m.String())
	}
	if m, err := ParseImage("absent"); err != nil || m.Attrs != nil {
		t.Fatalf("absent parsed to %#v, %v; want no attributes", m, err)
	}
}
