package apply

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"trail/apply/state"
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
		if round%5 == 1 {
			next = slices.Clone(old)
		}
		text := "TRAIL v1 commit=c host=h\n" + strings.Join(old, "\n") + "\n"
		nl, errs := stepfmt.ParseString("next", "TRAIL v1 commit=d host=h\n"+strings.Join(next, "\n")+"\n")
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		for _, printed := range []bool{false, true} {
			var lt *listText
			if printed {
				lt = printedText(t, text, nl)
			}
			got, errs := sharedParse("old", strings.NewReader(text), nl.Steps, lt)
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			want, _ := stepfmt.ParseString("old", text)
			if g, w := string(stepfmt.Format(got)), string(stepfmt.Format(want)); g != w {
				t.Fatalf("round %d, printed %v: read\n%s\nwant\n%s", round, printed, g, w)
			}
			for _, s := range got.Steps {
				for _, n := range nl.Steps {
					if s.Equal(n) && s.Src == n.Src && s != n {
						t.Fatalf("round %d, printed %v: %s was parsed, not taken from the next list", round, printed, s)
					}
				}
			}
		}
	}
	_, errs := sharedParse("old", strings.NewReader("TRAIL v1 commit=c host=h\n"+line(1, 0)+"\nFILE relative\n"), nil, nil)
	if len(errs) == 0 || errs[0].Src.Line != 3 {
		t.Fatalf("a damaged line: %v, want errors at line 3", errs)
	}
	n1, _ := stepfmt.ParseString("n", "TRAIL v1\n"+line(1, 0)+"\n")
	damaged := "TRAIL v1 commit=c host=h\n" + line(1, 0) + "\nFILE relative\n"
	for _, lt := range []*listText{nil, printedText(t, damaged, n1)} {
		_, errs = sharedParse("old", strings.NewReader(damaged), n1.Steps, lt)
		if len(errs) == 0 || errs[0].Src.Line != 3 {
			t.Fatalf("a damaged line after a shared one (printed %v): %v, want errors at line 3", lt != nil, errs)
		}
	}
}

// printedText prints next with printList against the applied list text,
// and checks what it found: same exactly when next's steps print as
// text's, and otherwise a pending text that saves as next printed.
func printedText(t *testing.T, text string, next *stepfmt.List) *listText {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "applied.steps")
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	lt, err := printList(file, dir, next)
	if err != nil {
		t.Fatal(err)
	}
	printed := string(stepfmt.Format(next))
	_, body, _ := strings.Cut(text, "\n")
	_, nextBody, _ := strings.Cut(printed, "\n")
	if lt.same != (body == nextBody) || lt.same != (lt.pending == nil) {
		t.Fatalf("same %v, pending %v, for\n%s\nagainst\n%s", lt.same, lt.pending != nil, printed, text)
	}
	if lt.pending != nil {
		if _, err := lt.pending.Save(dir, 7); err != nil {
			t.Fatal(err)
		}
		if data, _ := os.ReadFile(state.StepsFile(dir, 7)); string(data) != printed {
			t.Fatalf("the pending text\n%s\nwant\n%s", data, printed)
		}
	}
	return lt
}
