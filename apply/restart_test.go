package apply

import (
	"fmt"
	"strings"
	"testing"
)

// wantRestarts applies steps and checks the restart events of that apply:
// each want is a substring of one event's detail, in list order.
func wantRestarts(t *testing.T, sb *sandbox, ev *events, steps, commit string, want ...string) {
	t.Helper()
	from := len(*ev)
	sb.apply(steps, commit)
	checkRestarts(t, commit, restartsIn((*ev)[from:]), want...)
}

func checkRestarts(t *testing.T, what string, got []Event, want ...string) {
	t.Helper()
	var details []string
	for _, e := range got {
		details = append(details, e.Step+": "+e.Detail)
	}
	if len(got) != len(want) {
		t.Fatalf("%s: restarts %q, want %d like %q", what, details, len(want), want)
	}
	for i, w := range want {
		if !strings.Contains(got[i].Detail, w) {
			t.Fatalf("%s: restart %d is %q, want %q in it", what, i, details[i], w)
		}
	}
}

// A file named in restart-on that goes away (with its name in the list)
// restarts the unit: the service read it.
func TestRestartOnRemovedFile(t *testing.T) {
	sb, ev := newUnitSandbox(t)
	wantRestarts(t, sb, ev, "FILE /etc/a.conf {a}\nFILE /etc/b.conf {b}\nUNIT demo.service running=true restart-on=/etc/a.conf,/etc/b.conf", "c1",
		"would restart (changed: /etc/a.conf, /etc/b.conf)")
	wantRestarts(t, sb, ev, "FILE /etc/a.conf {a}\nUNIT demo.service running=true restart-on=/etc/a.conf", "c2",
		"would restart (changed: /etc/b.conf)")
	if sb.exists("/etc/b.conf") {
		t.Fatal("/etc/b.conf was not removed")
	}
}

// A directory in restart-on stands for everything trail manages under
// it: a file added, changed or removed there restarts the unit, a file
// next to it does not.
func TestRestartOnDirectory(t *testing.T) {
	sb, ev := newUnitSandbox(t)
	list := func(files ...string) string {
		var b strings.Builder
		b.WriteString("DIR /etc/demo.d\nDIR /etc/demo.d/sub\nFILE /etc/demo.dx {next door}\n")
		for _, f := range files {
			fmt.Fprintf(&b, "FILE /etc/demo.d/%s {%s}\n", f, f)
		}
		b.WriteString("UNIT demo.service running=true restart-on=/etc/demo.d\n")
		return b.String()
	}
	wantRestarts(t, sb, ev, list("a", "sub/b"), "c1", "would restart (changed: /etc/demo.d, /etc/demo.d/a, /etc/demo.d/sub and 1 more)")
	wantRestarts(t, sb, ev, list("a", "sub/b"), "c2")
	wantRestarts(t, sb, ev, list("a"), "c3", "would restart (changed: /etc/demo.d/sub/b)")
	wantRestarts(t, sb, ev, list("a", "c"), "c4", "would restart (changed: /etc/demo.d/c)")
	wantRestarts(t, sb, ev, strings.Replace(list("a", "c"), "{next door}", "{moved}", 1), "c5")
}

// The verb: a unit meant to run is restarted (started if it is not
// running), one the step does not say should run only if it runs; a
// change under reload-on alone reloads, one under restart-on restarts even
// if reload-on paths changed too; reload=true makes restart-on reload; a
// unit not meant to run is left alone.
func TestRestartVerbs(t *testing.T) {
	files := "DIR /etc/web\nFILE /etc/web/site {%s}\nFILE /etc/web/module {%s}\n"
	cases := []struct {
		name, unit string
		site, mod  string // contents in the second apply (first: 1, 1)
		want       string // "" for no restart
	}{
		{"running, restart", "running=true restart-on=/etc/web/site", "2", "1", "would restart (changed: /etc/web/site)"},
		{"not said to run", "restart-on=/etc/web/site", "2", "1", "would restart if running (changed: /etc/web/site)"},
		{"reload=true", "running=true restart-on=/etc/web/site reload=true", "2", "1", "would reload (changed: /etc/web/site)"},
		{"reload=true, not said to run", "restart-on=/etc/web/site reload=true", "2", "1", "would reload if running (changed: /etc/web/site)"},
		{"reload-on only", "running=true restart-on=/etc/web/module reload-on=/etc/web", "2", "1", "would reload (changed: /etc/web/site)"},
		{"restart-on wins", "running=true restart-on=/etc/web/module reload-on=/etc/web", "2", "2", "would restart (changed: /etc/web/module)"},
		{"restart-on only", "running=true restart-on=/etc/web/module reload-on=/etc/web", "1", "2", "would restart (changed: /etc/web/module)"},
		{"not meant to run", "running=false restart-on=/etc/web", "2", "2", "no restart: the unit is not meant to run"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sb, ev := newUnitSandbox(t)
			unit := "UNIT demo.service " + tc.unit
			sb.apply(fmt.Sprintf(files, "1", "1")+unit, "c1")
			wantRestarts(t, sb, ev, fmt.Sprintf(files, tc.site, tc.mod)+unit, "c2", tc.want)
		})
	}
}

// After a failed check or a failed step undoes an apply that changed a
// unit's files, the unit is restarted to read the files put back — also
// when the apply had not restarted it yet, and also a unit that is in the
// undone list alone (only if it runs: it says nothing of running there).
func TestRestartAfterUndo(t *testing.T) {
	base := "FILE /etc/demo.conf {%s}\nFILE /etc/other.conf {o}\nUNIT demo.service running=true restart-on=/etc/demo.conf\n"
	cases := map[string]struct{ extra, want string }{
		"failed check": {`CHECK health run="exit 1" timeout=5s`, "failed"},
		"failed step":  {`CMD boom run="exit 1" undo="true" timeout=5s`, "exit status 1"},
		"new unit": {"UNIT helper.service restart-on=/etc/other.conf\nCHECK health run=\"exit 1\" timeout=5s",
			"failed"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			sb, ev := newUnitSandbox(t)
			sb.apply(fmt.Sprintf(base, "v1"), "c1")
			from := len(*ev)
			b := strings.Replace(fmt.Sprintf(base, "v2"), "{o}", "{o2}", 1) + tc.extra
			if _, err := sb.applyErr(b, "c2"); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("apply: %v, want a failure saying %q", err, tc.want)
			}
			if got := sb.read("/etc/demo.conf"); got != "v1" {
				t.Fatalf("demo.conf is %q after the undo, want v1", got)
			}
			var after []Event
			for _, e := range restartsIn((*ev)[from:]) {
				if strings.Contains(e.Detail, "put back") {
					after = append(after, e)
				}
			}
			want := []string{"would restart (put back: /etc/demo.conf)"}
			if name == "new unit" {
				want = append(want, "would restart if running (put back: /etc/other.conf)")
			}
			checkRestarts(t, "after the undo", after, want...)
		})
	}
}

// An apply killed after changing a unit's file is undone when trail next
// opens its state, and the unit is restarted to read the file put back.
func TestRestartAfterRecovery(t *testing.T) {
	sb, ev := newUnitSandbox(t)
	base := "FILE /etc/demo.conf {%s}\nUNIT demo.service running=true restart-on=/etc/demo.conf\n"
	sb.apply(fmt.Sprintf(base, "v1"), "c1")
	type crash struct{}
	sb.e.opts.crash = func(point string) {
		if strings.HasPrefix(point, "done") {
			panic(crash{})
		}
	}
	func() {
		defer func() {
			if r := recover(); r != (crash{}) {
				t.Fatalf("the apply did not stop at its crash point: %v", r)
			}
		}()
		sb.applyErr(fmt.Sprintf(base, "v2"), "c2")
	}()
	if got := sb.read("/etc/demo.conf"); got != "v2" {
		t.Fatalf("demo.conf is %q at the crash, want v2", got)
	}
	from := len(*ev)
	sb.open()
	if got := sb.read("/etc/demo.conf"); got != "v1" {
		t.Fatalf("demo.conf is %q after recovery, want v1", got)
	}
	checkRestarts(t, "recovery", restartsIn((*ev)[from:]), "would restart (put back: /etc/demo.conf)")
}

// The plan says which units the apply would restart or reload, and why,
// as the apply then does.
func TestPlanRestarts(t *testing.T) {
	sb, ev := newUnitSandbox(t)
	list := func(files ...string) string {
		var b strings.Builder
		b.WriteString("DIR /etc/demo.d\nFILE /etc/site {s}\n")
		for _, f := range files {
			fmt.Fprintf(&b, "FILE /etc/demo.d/%s {%s}\n", f, f)
		}
		b.WriteString("UNIT demo.service running=true restart-on=/etc/demo.d reload-on=/etc/site\nUNIT helper.service running=false restart-on=/etc/demo.d\n")
		return b.String()
	}
	sb.apply(list("a", "b"), "c1")
	for _, tc := range []struct {
		name, steps string
		want        []string
	}{
		{"nothing changes", list("a", "b"), nil},
		{"a file goes", list("a"), []string{"would restart (changed: /etc/demo.d/b)", "no restart: the unit is not meant to run"}},
		{"the site changes", strings.Replace(list("a"), "{s}", "{s2}", 1), []string{"would reload (changed: /etc/site)"}},
	} {
		p, err := sb.e.Plan(sb.list(tc.steps))
		if err != nil {
			t.Fatalf("%s: plan: %v", tc.name, err)
		}
		var got []string
		for _, r := range p.Restarts {
			got = append(got, strings.Join(append(r.Work.Changes, r.Work.Notes...), "; "))
		}
		if len(got) != len(tc.want) {
			t.Fatalf("%s: planned restarts %q, want %q", tc.name, got, tc.want)
		}
		for i := range got {
			if !strings.Contains(got[i], tc.want[i]) {
				t.Fatalf("%s: planned restart %q, want %q in it", tc.name, got[i], tc.want[i])
			}
		}
		var b strings.Builder
		PrintPlan(&b, p)
		if len(tc.want) > 0 && !strings.Contains(b.String(), "* UNIT demo.service") {
			t.Fatalf("%s: the printed plan does not show the restart:\n%s", tc.name, b.String())
		}
		from := len(*ev)
		sb.apply(tc.steps, "c-"+tc.name)
		checkRestarts(t, tc.name+" (apply)", restartsIn((*ev)[from:]), tc.want...)
	}
}

func newUnitSandbox(t *testing.T) (*sandbox, *events) {
	sb := newSandbox(t)
	sb.fs().WithUnits()
	ev := &events{}
	sb.opts.AllowMassRemoval = true
	sb.opts.OnEvent = ev.add
	sb.open()
	return sb, ev
}

// restartsIn returns the restart events of evs.
func restartsIn(evs []Event) []Event {
	var out []Event
	for _, e := range evs {
		if e.Type == EventStep && e.Op == OpRestart {
			out = append(out, e)
		}
	}
	return out
}

// A unit file expected from a package of the list but not shipped by it
// fails during the apply, which rolls back: the package goes again.
func TestUnitMissingAfterPackageRollsBack(t *testing.T) {
	sb, _ := newUnitSandbox(t)
	sb.fs().DebRoot()
	sb.fs().Archive("trail-a", "1.0", "")
	g, err := sb.applyErr("PKG trail-a\nUNIT fromdeb.service enabled=true", "c1")
	if err == nil || !strings.Contains(err.Error(), "has no unit file") {
		t.Fatalf("apply: %v, want a failure naming the missing unit file", err)
	}
	if g.Result != ResultFailed || g.ErrorSource != "test.steps:2" {
		t.Fatalf("generation %s at %q, want failed at test.steps:2", g.Result, g.ErrorSource)
	}
	if got := sb.fs().PkgState("trail-a"); got != "absent" {
		t.Fatalf("trail-a is %s after the rollback, want absent", got)
	}
}
