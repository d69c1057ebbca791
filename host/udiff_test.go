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

// FuzzUnifiedDiff: applying the hunks to the old text gives the new one.
func FuzzUnifiedDiff(f *testing.F) {
	f.Add("a\nb\nc\n", "a\nB\nc\n")
	f.Add("", "x")
	f.Add("x\nx\ny\nx\n", "x\ny\nx\nx\n")
	f.Add("1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n", "1\n2\nX\n4\n5\n6\n7\n8\nY\n10\n")
	f.Fuzz(func(t *testing.T, a, b string) {
		if strings.Contains(a+b, "\\ No newline") {
			return
		}
		d := unifiedDiff(a, b)
		if (d == "") != (a == b) {
			t.Fatalf("diff %q for %q -> %q", d, a, b)
		}
		if got := patchText(t, a, d); got != b {
			t.Fatalf("patched %q, want %q\ndiff:\n%s", got, b, d)
		}
	})
}

// patchText applies a unified diff (as unifiedDiff writes it) to a.
func patchText(t *testing.T, a, d string) string {
	old := splitLines(a)
	var out []string
	at := 0 // next line of old to copy
	lines := strings.SplitAfter(d, "\n")
	for i := 0; i < len(lines) && lines[i] != ""; i++ {
		l := lines[i]
		if strings.HasPrefix(l, "@@ ") {
			var as, an int
			spec := strings.Fields(l)[1][1:]
			start, n, ok := strings.Cut(spec, ",")
			as, an = atoi(t, start), 1
			if ok {
				an = atoi(t, n)
			}
			if an == 0 {
				as++
			}
			out = append(out, old[at:as-1]...)
			at = as - 1
			continue
		}
		// A line and, for a last line without newline, git's marker.
		text := l[1:]
		if i+1 < len(lines) && strings.HasPrefix(lines[i+1], "\\ No newline") {
			text += lines[i+1]
			i++
		}
		switch l[0] {
		case ' ':
			out = append(out, old[at])
			at++
		case '-':
			if old[at] != text {
				t.Fatalf("removes %q, the text has %q", text, old[at])
			}
			at++
		case '+':
			out = append(out, text)
		}
	}
	out = append(out, old[at:]...)
	s := strings.Join(out, "")
	return strings.ReplaceAll(s, "\n\\ No newline at end of file\n", "")
}

func atoi(t *testing.T, s string) int {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			t.Fatalf("bad number %q", s)
		}
		n = n*10 + int(c-'0')
	}
	return n
}
