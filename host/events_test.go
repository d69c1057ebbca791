package host

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// manyFiles is a site of a directory and n files in it.
func manyFiles(n int) string {
	var b strings.Builder
	b.WriteString("directory \"/etc/many\" {}\n")
	for i := range n {
		fmt.Fprintf(&b, "file \"/etc/many/f%02d\" {\n  content = \"%d\\n\"\n}\n", i, i)
	}
	return b.String()
}

// An apply prints the first maxShown steps that changed something and
// counts the rest, whether or not their events carry text: with the
// journal off the engine spares the text of those it would not print,
// and with a journal every step is journaled whole.
func TestApplyShowsFirstStepsCountsTheRest(t *testing.T) {
	for _, journal := range []string{"off", "stderr"} {
		t.Run(journal, func(t *testing.T) {
			dir := testCheckout(t, manyFiles(maxShown+10))
			gitIn(t, dir, "config", "trail.journal", journal)
			var out, errs bytes.Buffer
			h, err := Open(dir, &out, &errs)
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			if _, err := h.Apply(context.Background(), ApplyOptions{}); err != nil {
				t.Fatal(err)
			}
			shown := regexp.MustCompile(`(?m)^  \+ (DIR|FILE) /etc/many\S*( .*)?  @site\.hcl:\d+`).FindAllString(out.String(), -1)
			if len(shown) != maxShown {
				t.Errorf("%d steps shown, want %d:\n%s", len(shown), maxShown, out.String())
			}
			if !strings.Contains(out.String(), "  ... and 11 more (trail log, or the journal, has them all)\n") {
				t.Errorf("the steps not shown are not counted as 11:\n%s", out.String())
			}
			if journal == "off" {
				return
			}
			for i := range maxShown + 10 {
				want := fmt.Sprintf(`FILE /etc/many/f%02d sha256:`, i)
				if !strings.Contains(errs.String(), want) {
					t.Errorf("the journal has no step record of %q:\n%s", want, errs.String())
				}
			}
		})
	}
}
