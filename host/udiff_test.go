package host

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestUnifiedDiff checks the hunks against diff -u's, the reference.
func TestUnifiedDiff(t *testing.T) {
	if _, err := exec.LookPath("diff"); err != nil {
		t.Skip("needs diff")
	}
	many := func(n int, f func(i int) string) string {
		var b strings.Builder
		for i := range n {
			b.WriteString(f(i) + "\n")
		}
		return b.String()
	}
	base := many(40, func(i int) string { return "line " + string(rune('a'+i%26)) })
	// Where the change is unambiguous the hunks must be diff's own.
	strict := map[string]bool{"one changed": true, "from empty": true, "to empty": true, "far apart": true, "no newline": true, "insert": true, "delete": true}
	for name, tc := range map[string][2]string{
		"equal":         {base, base},
		"from empty":    {"", "a\nb\n"},
		"to empty":      {"a\nb\n", ""},
		"one changed":   {"a\nb\nc\n", "a\nB\nc\n"},
		"far apart":     {base, strings.Replace(strings.Replace(base, "line b\n", "B\n", 1), "line n\n", "N\n", 1)},
		"close":         {base, strings.Replace(strings.Replace(base, "line b\n", "B\n", 1), "line f\n", "F\n", 1)},
		"no newline":    {"a\nb", "a\nc"},
		"newline added": {"a\nb", "a\nb\n"},
		"insert":        {base, strings.Replace(base, "line j\n", "line j\nnew\nnewer\n", 1)},
		"delete":        {base, strings.Replace(base, "line j\nline k\n", "", 1)},
		"repeats":       {"x\nx\ny\nx\n", "x\ny\nx\nx\n"},
	} {
		t.Run(name, func(t *testing.T) {
			got := unifiedDiff(tc[0], tc[1])
			want := diffU(t, tc[0], tc[1])
			if got != want && (strict[name] || applyDiff(t, tc[0], got) != tc[1]) {
				t.Fatalf("got\n%s\nwant (diff -u)\n%s", got, want)
			}
		})
	}
}

// diffU is diff -u's output without its header.
func diffU(t *testing.T, a, b string) string {
	dir := t.TempDir()
	pa, pb := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	for p, s := range map[string]string{pa: a, pb: b} {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, _ := exec.Command("diff", "-u", pa, pb).Output()
	s := string(out)
	for range 2 {
		if _, rest, ok := strings.Cut(s, "\n"); ok && (strings.HasPrefix(s, "---") || strings.HasPrefix(s, "+++")) {
			s = rest
		}
	}
	return s
}

// applyDiff applies our diff with patch, for hunks that differ from diff's
// only in how an ambiguous match was chosen.
func applyDiff(t *testing.T, a, d string) string {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if err := os.WriteFile(p, []byte(a), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("patch", "-s", p)
	cmd.Stdin = strings.NewReader("--- f\n+++ f\n" + d)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Logf("patch: %v: %s", err, out)
		return "\x00"
	}
	got, _ := os.ReadFile(p)
	return string(got)
}
