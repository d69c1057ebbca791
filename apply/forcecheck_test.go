package apply

import (
	"context"
	"os"
	"testing"
	"time"

	"trail/apply/state"
)

// ForceMatches, which reads the list and the record as text and compares
// most targets through their kind's Matcher, answers as the plan of a
// forced Apply does: nothing drifted is the no-op for both; each way a
// target can drift (content of the same size, a policy of ignore, mode,
// owner, a missing file or directory, a file made a directory, a link
// moved) is found, and the forced Apply then puts it back, after which
// the fast check matches again. A file touched but not changed, and one
// whose index entry is racily clean, are hashed and match.
func TestForceMatchesAsThePlan(t *testing.T) {
	const list = `DIR /srv/app mode=0750
FILE /srv/app/conf {v=1} mode=0640 drift=heal
FILE /srv/app/loose {free}
FILE /srv/app/same {same} drift=ignore
LINK /srv/app/cur conf
DIR /srv/app/cache
FILE /etc/motd {hello} owner=alice
FILE "/srv/app/with space" {spaced}`
	cases := []struct {
		name    string
		racy    bool // no wait past the racy window after the apply
		drift   func(sb *sandbox)
		matches bool
	}{
		{name: "nothing drifted", matches: true},
		{name: "nothing drifted, index racily clean", racy: true, matches: true},
		{name: "touched, not changed", matches: true, drift: func(sb *sandbox) {
			now := time.Now()
			os.Chtimes(sb.host("/srv/app/conf"), now, now)
		}},
		{name: "content of the same size", drift: func(sb *sandbox) { sb.write("/srv/app/conf", "v=2", 0o640) }},
		{name: "content, racily clean", racy: true, drift: func(sb *sandbox) { sb.write("/srv/app/conf", "v=2", 0o640) }},
		{name: "content, policy ignore", drift: func(sb *sandbox) { sb.write("/srv/app/same", "changed", 0o644) }},
		{name: "quoted target's content", drift: func(sb *sandbox) { sb.write("/srv/app/with space", "SPACED", 0o644) }},
		{name: "file mode", drift: func(sb *sandbox) { os.Chmod(sb.host("/srv/app/conf"), 0o600) }},
		{name: "directory mode", drift: func(sb *sandbox) { os.Chmod(sb.host("/srv/app"), 0o755) }},
		{name: "owner", drift: func(sb *sandbox) { os.Chown(sb.host("/etc/motd"), 1001, 1000) }},
		{name: "missing file", drift: func(sb *sandbox) { os.Remove(sb.host("/srv/app/loose")) }},
		{name: "missing directory", drift: func(sb *sandbox) { os.Remove(sb.host("/srv/app/cache")) }},
		{name: "file made a directory", drift: func(sb *sandbox) {
			os.Remove(sb.host("/srv/app/loose"))
			os.Mkdir(sb.host("/srv/app/loose"), 0o644)
		}},
		{name: "link moved", drift: func(sb *sandbox) {
			os.Remove(sb.host("/srv/app/cur"))
			os.Symlink("elsewhere", sb.host("/srv/app/cur"))
		}},
	}
	ctx := context.Background()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sb := newSandbox(t)
			sb.apply(list, "c1")
			if !c.racy {
				time.Sleep(2 * state.RacyWindow)
			}
			if c.drift != nil {
				c.drift(sb)
			}
			g, err := sb.e.Current()
			if err != nil {
				t.Fatal(err)
			}
			l, err := g.Steps()
			if err != nil {
				t.Fatal(err)
			}
			meta := Meta{Commit: "c1", ReadFrom: g.Number, Force: true}
			fg, n, err := sb.e.ForceMatches(meta)
			if err != nil {
				t.Fatal(err)
			}
			if got := fg != nil; got != c.matches {
				t.Fatalf("ForceMatches matched %v, want %v", got, c.matches)
			}
			if fg != nil && (!fg.NoOp || fg.Number != g.Number || n != len(l.Steps)) {
				t.Fatalf("ForceMatches gave %+v and %d steps; want generation %d's no-op and %d", fg, n, g.Number, len(l.Steps))
			}
			ag, err := sb.e.Apply(ctx, l, meta)
			if err != nil {
				t.Fatal(err)
			}
			if ag.NoOp != c.matches {
				t.Fatalf("the forced Apply's no-op is %v where ForceMatches matched %v: %+v", ag.NoOp, c.matches, ag.Counts)
			}
			if !c.matches && ag.Counts.Modified == 0 {
				t.Fatalf("the forced Apply put nothing back: %+v", ag.Counts)
			}
			g2, _ := sb.e.Current()
			if fg, _, err := sb.e.ForceMatches(Meta{Commit: "c1", ReadFrom: g2.Number, Force: true}); err != nil || fg == nil {
				t.Fatalf("after the forced Apply, ForceMatches: %v, %v; want a match", fg, err)
			}
			if d, err := sb.e.Drift(); err != nil || len(d) != 0 {
				t.Fatalf("after the forced Apply, drift: %v, %v", d, err)
			}
		})
	}
}

// ForceMatches leaves to Apply what is not the applied generation's list
// for the commit: another generation named, another commit, a list whose
// lines do not go with the record's.
func TestForceMatchesOnlyTheApplied(t *testing.T) {
	sb := newSandbox(t)
	sb.apply("FILE /etc/a {a}\nFILE /etc/b {b}", "c1")
	g, _ := sb.e.Current()
	for _, m := range []Meta{{Commit: "c1", ReadFrom: g.Number + 1}, {Commit: "c2", ReadFrom: g.Number}, {Commit: "c1"}} {
		if fg, _, err := sb.e.ForceMatches(m); err != nil || fg != nil {
			t.Fatalf("ForceMatches(%+v): %v, %v; want neither", m, fg, err)
		}
	}
	if fg, _, err := sb.e.ForceMatches(Meta{Commit: "c1", ReadFrom: g.Number}); err != nil || fg == nil {
		t.Fatalf("ForceMatches of the applied: %v, %v", fg, err)
	}
	steps := state.StepsFile(sb.e.genDir(), g.Number)
	data, err := os.ReadFile(steps)
	if err != nil {
		t.Fatal(err)
	}
	// A comment line parses the same list but does not pair with a record.
	if err := os.WriteFile(steps, append(data, "# a comment\n"...), 0o600); err != nil {
		t.Fatal(err)
	}
	if fg, _, err := sb.e.ForceMatches(Meta{Commit: "c1", ReadFrom: g.Number}); err != nil || fg != nil {
		t.Fatalf("ForceMatches of a list with a line more than the record: %v, %v; want neither", fg, err)
	}
}
