package kind_test

import (
	"testing"

	"trail/apply/internal/sandbox"
	"trail/apply/kind"
	"trail/apply/kinds/paths"
)

func FuzzParseImage(f *testing.F) {
	for _, s := range []string{"absent", "file content=sha256:" + zeros + " mode=0644 uid=0 gid=0",
		`link to="a b" uid=1`, "dir mode=0755", `x k=""`, "file k=\"\\x00\"", "a b", "a =", "a k=v  k2=v2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := kind.ParseImage(s)
		if err != nil {
			return
		}
		again, err := kind.ParseImage(m.String())
		if err != nil {
			t.Fatalf("%q parsed to %q, which does not parse: %v", s, m.String(), err)
		}
		if !again.Equal(m) || again.String() != m.String() {
			t.Fatalf("round trip of %q: %q != %q", s, again, m)
		}
		if p, err := paths.Unpack(m); err == nil {
			if back := p.Image(); back.String() != m.String() && len(m.Attrs) == len(back.Attrs) {
				t.Logf("path image %q normalises to %q", m, back)
			}
		}
	})
}

const zeros = "0000000000000000000000000000000000000000000000000000000000000000"

func FuzzParseIDs(f *testing.F) {
	f.Add([]byte(sandbox.Passwd))
	f.Add([]byte(sandbox.Group))
	f.Add([]byte("a:x:99999999999:\n:x:1:\nb::2\nc:x:-1:\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for name := range kind.ParseIDs(data) {
			if name == "" {
				t.Fatal("empty name accepted")
			}
		}
	})
}
