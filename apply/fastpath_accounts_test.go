package apply

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"trail/apply/state"
)

// Status and a --force of the applied commit answer as the long path for
// the kinds that have no Matcher too (USER, GROUP), whose record values
// are quoted (a comment with spaces, quotes and a backslash, a home with
// a space), beside a FILE owned by a name: nothing drifted, a user's
// comment or shell changed by hand, a group's gid.
func TestFastPathsAnswerAsTheLongPathForAccounts(t *testing.T) {
	const list = anchors + `GROUP web gid=1600
USER carol uid=1500 group=web comment="Carol \"C\" O\\Neil, ops" home="/home/carol c" shell=/bin/sh
DIR /srv/w
FILE /srv/w/conf {w} owner=carol group=web mode=0640
`
	cases := []struct {
		name  string
		drift func(s *sandbox)
	}{
		{name: "nothing"},
		{name: "comment", drift: func(s *sandbox) { editFile(s, "/etc/passwd", `Carol "C" O\Neil, ops`, "Carol") }},
		{name: "shell", drift: func(s *sandbox) { editFile(s, "/etc/passwd", "/home/carol c:/bin/sh\n", "/home/carol c:/bin/bash\n") }},
		{name: "gid", drift: func(s *sandbox) { editFile(s, "/etc/group", "web:x:1600:", "web:x:1601:") }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := acctSandbox(t, true)
			s.apply(list, "c1")
			time.Sleep(2 * state.RacyWindow)
			if c.drift != nil {
				c.drift(s)
			}
			s.open()
			want, werr := longDrift(t, s.e)
			got, gerr := s.e.Drift()
			if werr != nil || gerr != nil || strings.Join(driftLines(got), "\n") != strings.Join(want, "\n") {
				t.Fatalf("status found\n%s\n(%v)\nthe long path\n%s\n(%v)", strings.Join(driftLines(got), "\n"), gerr, strings.Join(want, "\n"), werr)
			}
			if (c.drift != nil) != (len(want) > 0) {
				t.Fatalf("the long path found %v", want)
			}
			g, _ := s.e.Current()
			meta := Meta{Commit: "c1", ReadFrom: g.Number, Force: true}
			if fg, _, err := s.e.ForceMatches(meta); err != nil || (fg != nil) != (len(want) == 0) {
				t.Fatalf("ForceMatches: %v, %v; the long path found %d drifted", fg, err, len(want))
			}
			l, err := g.Steps()
			if err != nil {
				t.Fatal(err)
			}
			if ag, err := s.e.Apply(context.Background(), l, meta); err != nil || ag.NoOp != (len(want) == 0) {
				t.Fatalf("the forced Apply: %+v, %v", ag, err)
			}
			if d, err := s.e.Drift(); err != nil || len(d) != 0 {
				t.Fatalf("after the forced Apply status finds %v, %v", driftLines(d), err)
			}
		})
	}
}

// editFile replaces old with new in the sandbox's file p, which must hold it.
func editFile(s *sandbox, p, old, new string) {
	s.t.Helper()
	data := s.read(p)
	if !strings.Contains(data, old) {
		s.t.Fatalf("%s does not hold %q:\n%s", p, old, data)
	}
	st, err := os.Stat(s.host(p))
	if err != nil {
		s.t.Fatal(err)
	}
	s.write(p, strings.Replace(data, old, new, 1), st.Mode().Perm())
}
