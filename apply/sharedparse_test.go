package apply

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"trail/stepfmt"
)

// sharedParse reads what stepfmt.ParseString reads, whatever the next
// list shares with it, and takes from next every step it prints as.
func TestSharedParse(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	line := func(i, v int) string {
		return fmt.Sprintf("FILE /srv/f%d sha256:%064x mode=0%d44 @main.hcl:%d", i, i, 6-v%2, i+1)
	}
	for round := 0; round < 100; round++ {
		var old, next []string
		for i := 0; i < r.IntN(40); i++ {
			old = append(old, line(i, 0))
			switch r.IntN(6) {
			case 0: // gone
			case 1:
				next = append(next, line(i, 1))
			case 2:
				next = append(next, line(1000+i, 0), line(i, 0))
			default:
				next = append(next, line(i, 0))
			}
		}
		if round%3 == 0 {
			r.Shuffle(len(next), func(i, j int) { next[i], next[j] = next[j], next[i] })
		}
		text := "TRAIL v1 commit=c host=h\n" + strings.Join(old, "\n") + "\n"
		nl, errs := stepfmt.ParseString("next", "TRAIL v1 commit=d host=h\n"+strings.Join(next, "\n")+"\n")
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		got, errs := sharedParse("old", strings.NewReader(text), nl.Steps)
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		want, _ := stepfmt.ParseString("old", text)
		if g, w := string(stepfmt.Format(got)), string(stepfmt.Format(want)); g != w {
			t.Fatalf("round %d: read\n%s\nwant\n%s", round, g, w)
		}
		for _, s := range got.Steps {
			for _, n := range nl.Steps {
				if s.Equal(n) && s.Src == n.Src && s != n {
					t.Fatalf("round %d: %s was parsed, not taken from the next list", round, s)
				}
			}
		}
	}
	_, errs := sharedParse("old", strings.NewReader("TRAIL v1 commit=c host=h\n"+line(1, 0)+"\nFILE relative\n"), nil)
	if len(errs) == 0 || errs[0].Src.Line != 3 {
		t.Fatalf("a damaged line: %v, want errors at line 3", errs)
	}
	n1, _ := stepfmt.ParseString("n", "TRAIL v1\n"+line(1, 0)+"\n")
	_, errs = sharedParse("old", strings.NewReader("TRAIL v1 commit=c host=h\n"+line(1, 0)+"\nFILE relative\n"), n1.Steps)
	if len(errs) == 0 || errs[0].Src.Line != 3 {
		t.Fatalf("a damaged line after a shared one: %v, want errors at line 3", errs)
	}
}
