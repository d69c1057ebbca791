package apply

import (
	"context"
	"os"
	"testing"
)

// A plan and the apply of it agree on a path whose parent the machine
// holds as something else than the steps say, or that the steps replace.
func TestParentPlanAgreesWithApply(t *testing.T) {
	for name, c := range map[string]struct {
		before []string // the lists applied first
		setup  func(sb *sandbox)
		steps  string
		fails  bool // both refuse it
	}{
		"file made a dir":   {setup: func(sb *sandbox) { sb.write("/srv/a", "x", 0o644) }, steps: "DIR /srv/a\nFILE /srv/a/x {x}"},
		"file, no dir step": {setup: func(sb *sandbox) { sb.write("/srv/a", "x", 0o644) }, steps: "FILE /srv/a/x {x}", fails: true},
		"symlink made a dir": {setup: func(sb *sandbox) {
			must(sb.t, os.MkdirAll(sb.host("/srv/b"), 0o755))
			must(sb.t, os.Symlink("b", sb.host("/srv/a")))
		}, steps: "DIR /srv/a\nFILE /srv/a/x {x}"},
		"symlink, no dir step": {setup: func(sb *sandbox) {
			must(sb.t, os.MkdirAll(sb.host("/srv/b"), 0o755))
			must(sb.t, os.Symlink("b", sb.host("/srv/a")))
		}, steps: "FILE /srv/a/x {x}", fails: true},
		"dir of another owner": {setup: func(sb *sandbox) {
			must(sb.t, os.MkdirAll(sb.host("/srv/a"), 0o700))
			must(sb.t, os.Chown(sb.host("/srv/a"), 1234, 1234))
		}, steps: "DIR /srv/a\nFILE /srv/a/x {x}"},
		"file step becomes dir": {before: []string{"FILE /srv/a {a}\nFILE /srv/k {k}"}, steps: "FILE /srv/k {k}\nDIR /srv/a\nFILE /srv/a/x {x}"},
		"dir step becomes link": {before: []string{"DIR /srv/a\nFILE /srv/a/x {x}\nFILE /srv/k {k}\nFILE /srv/k2 {k}"}, setup: func(sb *sandbox) { must(sb.t, os.MkdirAll(sb.host("/srv/b"), 0o755)) },
			steps: "FILE /srv/k {k}\nFILE /srv/k2 {k}\nLINK /srv/a /srv/b\nFILE /srv/b/y {y}"},
		"tree taken over": {setup: func(sb *sandbox) { sb.write("/srv/a/old", "o", 0o644) }, steps: "DIR /srv/a\nFILE /srv/a/x {x}\nFILE /srv/a/old {o}"},
	} {
		t.Run(name, func(t *testing.T) {
			sb := newSandbox(t)
			must(t, os.MkdirAll(sb.host("/srv"), 0o755))
			for i, l := range c.before {
				sb.apply(l, "b"+string(rune('0'+i)))
			}
			if c.setup != nil {
				c.setup(sb)
			}
			l := sb.list(c.steps)
			_, perr := sb.e.Plan(l)
			_, aerr := sb.e.Apply(context.Background(), l, Meta{Commit: "c"})
			if (perr != nil) != c.fails || (aerr != nil) != c.fails {
				t.Errorf("plan: %v; apply: %v; want both to fail: %v", perr, aerr, c.fails)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
