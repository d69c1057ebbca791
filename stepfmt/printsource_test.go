package stepfmt

import (
	"bytes"
	"testing"
)

// A step's source prints as Quote(Source.String()) does, and one whose
// file name needs no quotes allocates nothing to print.
func TestAppendStepSource(t *testing.T) {
	for _, src := range []Source{
		{File: "site.hcl", Line: 12},
		{File: "hosts/web.hcl", Line: 3, EndLine: 9},
		{File: "my site.hcl", Line: 1},
		{File: `q"uote.hcl`, Line: 2, EndLine: 2},
		{File: "@at.hcl", Line: 4},
		{File: "", Line: 7},
		{File: "é.hcl", Line: 100000},
	} {
		s := &Step{Kind: KindFile, Target: "/etc/x", Src: src}
		var b bytes.Buffer
		AppendStep(&b, s, true)
		want := "FILE /etc/x @" + Quote(src.String())
		if b.String() != want {
			t.Errorf("%#v printed %q, want %q", src, b.String(), want)
		}
	}
	s := &Step{Kind: KindFile, Target: "/etc/x", Src: Source{File: "hosts/web.hcl", Line: 3, EndLine: 9}}
	var b bytes.Buffer
	b.Grow(256)
	if n := testing.AllocsPerRun(100, func() { b.Reset(); AppendStep(&b, s, true) }); n != 0 {
		t.Errorf("printing a step with its source allocates %v times, want 0", n)
	}
}
