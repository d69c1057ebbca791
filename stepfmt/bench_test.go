package stepfmt

import (
	"bytes"
	"fmt"
	"testing"
)

// genList makes an n-step list of directories and files; variant shifts
// every tenth file's content and mode so that a diff has real work.
func genList(n, variant int) []byte {
	var b bytes.Buffer
	b.WriteString("TRAIL v1 commit=abc host=bench\n")
	dirs := n / 20
	for d := 0; d < dirs; d++ {
		fmt.Fprintf(&b, "DIR /srv/d%04d mode=0755 owner=root group=root @bench.hcl:%d\n", d, d+1)
	}
	for i := 0; i < n-dirs; i++ {
		mode, hash := "0644", testHash
		if variant > 0 && i%10 == 0 {
			mode, hash = "0600", "sha256:60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"
		}
		fmt.Fprintf(&b, "FILE /srv/d%04d/f%05d %s mode=%s owner=root group=root @bench.hcl:%d-%d\n",
			i%dirs, i+variant*n, hash, mode, i+dirs, i+dirs+3)
	}
	return b.Bytes()
}

func BenchmarkParse10k(b *testing.B) {
	data := genList(10000, 0)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, errs := Parse("bench", data); len(errs) > 0 {
			b.Fatal(errs)
		}
	}
}

func BenchmarkValidate10k(b *testing.B) {
	l, _ := Parse("bench", genList(10000, 0))
	for b.Loop() {
		if errs := Validate(l); len(errs) > 0 {
			b.Fatal(errs)
		}
	}
}

func BenchmarkDiff10k(b *testing.B) {
	old, _ := Parse("old", genList(10000, 0))
	new, _ := Parse("new", genList(10000, 1))
	for b.Loop() {
		if p := Diff(old.Steps, new.Steps); p.Empty() {
			b.Fatal("empty plan")
		}
	}
}

// BenchmarkParseValidateDiff10k is the whole front of an apply: parse the
// applied and the compiled list, validate the new one, diff them.
func BenchmarkParseValidateDiff10k(b *testing.B) {
	oldData, newData := genList(10000, 0), genList(10000, 1)
	for b.Loop() {
		old, e1 := Parse("old", oldData)
		new, e2 := Parse("new", newData)
		if len(e1)+len(e2) > 0 {
			b.Fatal(e1, e2)
		}
		if errs := Validate(new); len(errs) > 0 {
			b.Fatal(errs)
		}
		Diff(old.Steps, new.Steps)
	}
}

// BenchmarkBaselineReadLines is the floor: splitting the same two inputs
// into lines, to read the parser's cost as a ratio.
func BenchmarkBaselineReadLines(b *testing.B) {
	oldData, newData := genList(10000, 0), genList(10000, 1)
	for b.Loop() {
		n := 0
		for _, d := range [][]byte{oldData, newData} {
			for _, line := range bytes.Split(d, []byte("\n")) {
				n += len(bytes.Fields(line))
			}
		}
		if n == 0 {
			b.Fatal("no words")
		}
	}
}
