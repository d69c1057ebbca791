package apply

import (
	"bytes"
	"testing"

	"trail/stepfmt"
)

// stepLineIs pairs a step list's line with a record's identity: it is
// true of every step as a list prints it with its own identity, and true
// of a line only if the line parses to a step of that identity.
func FuzzStepLineIs(f *testing.F) {
	for _, s := range []struct{ line, target string }{
		{"FILE /etc/a sha256:00 mode=0644", "/etc/a"}, {`FILE "/etc/a b" x`, "/etc/a b"}, {`FILE "/etc/a b"`, "/etc/a b"},
		{`FILE "/etc/a\"" x`, `/etc/a"`}, {"FILE /etc/a=b x", "/etc/a=b"}, {`FILE "/etc/a=b" x`, "/etc/a=b"},
		{"FILE /etc/a", "/etc/a"}, {"FILE /etc/ab", "/etc/a"}, {`FILE "/etc/\xff" x`, "/etc/\xff"}, {"DIR /etc/a", "/etc/a"},
	} {
		f.Add(s.line, s.target)
	}
	f.Fuzz(func(t *testing.T, line, target string) {
		id := stepfmt.ID{Kind: stepfmt.KindFile, Target: target}
		if bytes.ContainsAny([]byte(line), "\n") {
			return
		}
		if stepLineIs([]byte(line), id) {
			l, errs := stepfmt.ParseString("f", line+"\n")
			if len(errs) == 0 && (len(l.Steps) != 1 || l.Steps[0].ID() != id) {
				t.Fatalf("%q is taken for %v, parses to %v", line, id, l.Steps)
			}
		}
		// The line a list prints for a step of the target.
		l, errs := stepfmt.ParseString("f", "FILE "+stepfmt.Quote(target)+" sha256:"+zeros64+"\n")
		if len(errs) > 0 || len(l.Steps) != 1 || l.Steps[0].Target != target {
			return
		}
		printed := bytes.Split(stepfmt.Format(&stepfmt.List{Header: l.Header, Steps: l.Steps}), []byte("\n"))
		if len(printed) < 2 || !stepLineIs(printed[1], id) {
			t.Fatalf("the printed step %q is not taken for %v", printed, id)
		}
	})
}

const zeros64 = "0000000000000000000000000000000000000000000000000000000000000000"
