package lineedit

import (
	"strings"
	"testing"
)

const sshd = "#Port 22\n#PermitRootLogin prohibit-password\nPasswordAuthentication yes\nX11Forwarding yes\nSubsystem sftp internal\n"

func TestApply(t *testing.T) {
	cases := []struct {
		name  string
		in    string
		edits []Edit
		want  string
		n     int
	}{
		{"replace last match", sshd, []Edit{{Line: "PermitRootLogin no", Regexp: "^#?PermitRootLogin"}},
			strings.Replace(sshd, "#PermitRootLogin prohibit-password", "PermitRootLogin no", 1), 1},
		{"already there", sshd, []Edit{{Line: "X11Forwarding yes", Regexp: "^#?X11Forwarding"}}, sshd, 0},
		{"no match appends", sshd, []Edit{{Line: "MaxAuthTries 3", Regexp: "^#?MaxAuthTries"}}, sshd + "MaxAuthTries 3\n", 1},
		{"exact line present", sshd, []Edit{{Line: "X11Forwarding yes"}}, sshd, 0},
		{"after", sshd, []Edit{{Line: "Port 2222", After: "^#Port"}},
			strings.Replace(sshd, "#Port 22\n", "#Port 22\nPort 2222\n", 1), 1},
		{"before", sshd, []Edit{{Line: "# managed", Before: "^Subsystem"}},
			strings.Replace(sshd, "Subsystem", "# managed\nSubsystem", 1), 1},
		{"after without match appends", sshd, []Edit{{Line: "Banner none", After: "^Nothing"}}, sshd + "Banner none\n", 1},
		{"absent", sshd + "X11Forwarding no\n", []Edit{{Regexp: "^X11Forwarding", Absent: true}},
			strings.Replace(sshd, "X11Forwarding yes\n", "", 1), 2},
		{"no final newline", "a\nb", []Edit{{Line: "c"}}, "a\nb\nc\n", 1},
		{"no final newline kept", "a\nb", []Edit{{Line: "B", Regexp: "^b$"}}, "a\nB", 1},
		{"empty file", "", []Edit{{Line: "x"}}, "x\n", 1},
		{"in order", sshd, []Edit{{Line: "PermitRootLogin no", Regexp: "^#?PermitRootLogin"}, {Regexp: "^PermitRootLogin", Absent: true}},
			strings.Replace(sshd, "#PermitRootLogin prohibit-password\n", "", 1), 2},
	}
	for _, c := range cases {
		got, changes, err := Apply([]byte(c.in), c.edits)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if string(got) != c.want || len(changes) != c.n {
			t.Errorf("%s: got %q (%q), want %q with %d changes", c.name, got, changes, c.want, c.n)
		}
	}
}

func TestScriptRoundTrip(t *testing.T) {
	edits := []Edit{{Line: "a \"b\"", Regexp: "^a"}, {Regexp: "x", Absent: true}, {Line: "l", Before: "^z"}}
	got, err := Parse(Format(edits))
	if err != nil || len(got) != 3 || got[0] != edits[0] || got[1] != edits[1] || got[2] != edits[2] {
		t.Fatalf("Parse(Format) = %+v, %v", got, err)
	}
}

func TestCheck(t *testing.T) {
	for _, e := range []Edit{{}, {Absent: true}, {Line: "a", After: "x", Before: "y"}, {Regexp: "x", Absent: true, After: "y"},
		{Line: "a", Regexp: "("}, {Line: "a\nb"}} {
		if e.Check() == nil {
			t.Errorf("%+v: no error", e)
		}
	}
	if _, err := Parse([]byte("{\"line\":\"a\",\"what\":1}\n")); err == nil {
		t.Error("an unknown field parsed")
	}
}
