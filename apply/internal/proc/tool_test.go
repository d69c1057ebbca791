package proc

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// script writes an executable shell script into a temporary directory
// and returns its path.
func script(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "tool")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// A tool that prints its reason on stdout, as dpkg and a maintainer
// script do, and only a bare status on stderr: the error names the
// reason, with both streams in the order written.
func TestToolErrorCarriesStdout(t *testing.T) {
	p := script(t, `echo "Reading package lists..."
echo "You have asked to remove sudo, but no root password has been set." 
sleep 0.1
echo "E: Sub-process /usr/bin/dpkg returned an error code (1)" >&2
exit 1
`)
	out, err := RunTool(p, "remove", "sudo")
	if err == nil {
		t.Fatal("a tool that exits 1 succeeded")
	}
	if ExitStatus(err) != 1 {
		t.Errorf("exit status %d, want 1", ExitStatus(err))
	}
	if !strings.Contains(out, "no root password") {
		t.Errorf("stdout not returned: %q", out)
	}
	want := p + " remove sudo failed (exit 1): Reading package lists...; You have asked to remove sudo, but no root password has been set.; E: Sub-process /usr/bin/dpkg returned an error code (1)"
	if err.Error() != want {
		t.Errorf("error\n got %q\nwant %q", err.Error(), want)
	}
}

// A chatty tool's error keeps only its last lines, bounded in bytes.
func TestToolErrorBounded(t *testing.T) {
	p := script(t, `i=0
while [ $i -lt 5000 ]; do echo "progress line $i"; i=$((i+1)); done
echo "the reason" >&2
exit 3
`)
	_, err := RunTool(p)
	msg := err.Error()
	if !strings.HasSuffix(msg, "progress line 4999; the reason") {
		t.Errorf("error does not end with the last lines: %q", msg[max(0, len(msg)-200):])
	}
	if n := strings.Count(msg, "; "); n != saidLines {
		t.Errorf("error has %d separators, want %d (…; and %d lines)", n, saidLines, saidLines)
	}
	if !strings.Contains(msg, "(exit 3): …; progress line 4981;") {
		t.Errorf("error does not say lines were left out: %q", msg)
	}
}

func TestTailBytes(t *testing.T) {
	long := strings.Repeat("é", 3000) // 6000 bytes on one line
	got := Tail("first\n" + long + "\n")
	if len(got) > saidBytes+len("…; ") {
		t.Errorf("tail is %d bytes, more than %d", len(got), saidBytes)
	}
	if !strings.HasPrefix(got, "…; é") || !strings.HasSuffix(got, "é") {
		t.Errorf("tail cut badly: %q…", got[:20])
	}
	if got := Tail("a\n\n  b  \n"); got != "a; b" {
		t.Errorf("Tail = %q, want %q", got, "a; b")
	}
	if got := Tail(strings.Repeat("x\n", 2000) + strings.Repeat("y", 100) + "\n"); strings.Count(got, "x") != saidLines-1 {
		t.Errorf("Tail kept %d x lines, want %d", strings.Count(got, "x"), saidLines-1)
	}
}

// stderr's verdict that reached trail before stdout's last lines (the two
// pipes are read apart) still closes the message, and is not pushed out
// of it by a chatty stdout.
func TestTailEndingKeepsVerdict(t *testing.T) {
	var both strings.Builder
	for i := range 30 {
		if i == 5 {
			both.WriteString("E: the verdict\n")
		}
		fmt.Fprintf(&both, "progress %d\n", i)
	}
	got := TailEnding(both.String(), "warning\nE: the verdict\n")
	if !strings.HasSuffix(got, "progress 29; E: the verdict") {
		t.Errorf("verdict not last: %q", got)
	}
	if n := strings.Count(got, "E: the verdict"); n != 1 {
		t.Errorf("verdict appears %d times: %q", n, got)
	}
	if n := strings.Count(got, "; "); n != saidLines {
		t.Errorf("%d separators, want %d: %q", n, saidLines, got)
	}
	if got := TailEnding("a\nb\n", ""); got != "a; b" {
		t.Errorf("no stderr: %q", got)
	}
}
