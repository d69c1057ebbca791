package apply

import (
	"strings"
	"testing"

	sbx "trail/apply/internal/sandbox"
)

// A command in restart-on restarts the unit when it runs: added, or
// modified so that it runs again; removed, when its undo runs. A command
// whose guard holds runs nothing and restarts nothing, and neither does
// an apply that leaves it as it is.
func TestRestartOnCommand(t *testing.T) {
	sb, ev := newUnitSandbox(t)
	cmd := func(run, extra string) string {
		return `CMD build run="` + run + `" undo="rm -f built" timeout=5s` + extra + "\n"
	}
	unit := "UNIT demo.service running=true restart-on=command:build\n"
	wantRestarts(t, sb, ev, cmd("echo 1 > built", "")+unit, "c1", "would restart (changed: command:build)")
	wantRestarts(t, sb, ev, cmd("echo 1 > built", "")+unit, "c2")
	wantRestarts(t, sb, ev, cmd("echo 2 > built", "")+unit, "c3", "would restart (changed: command:build)")
	if got := sb.read("/built"); got != "2\n" {
		t.Fatalf("built is %q, want the new run's 2", got)
	}
	wantRestarts(t, sb, ev, cmd("echo 3 > built", " creates=/built")+unit, "c4")
	if got := sb.read("/built"); got != "2\n" {
		t.Fatalf("built is %q, want 2: the guard held", got)
	}
	// The command goes with its trigger: its undo ran, which the unit read.
	wantRestarts(t, sb, ev, "FILE /etc/demo.conf {x}\nUNIT demo.service running=true restart-on=/etc/demo.conf\n", "c5",
		"would restart (changed: /etc/demo.conf, command:build)")
	if sb.exists("/built") {
		t.Fatal("the command's undo did not run")
	}
}

// A package in restart-on restarts the unit when trail installs it,
// changes its version or removes it; reload-on reloads; an apply that
// leaves the package as it is restarts nothing.
func TestRestartOnPackage(t *testing.T) {
	sb, ev := newUnitSandbox(t)
	sb.fs().DebRoot()
	sb.fs().AptRepo(sbx.Deb{Name: "trail-a", Version: "1.0"}, sbx.Deb{Name: "trail-a", Version: "2.0"})
	list := func(version, unit string) string {
		return "PKG trail-a version=" + version + "\nUNIT demo.service running=true " + unit + "\n"
	}
	wantRestarts(t, sb, ev, list("1.0", "restart-on=package:trail-a"), "c1", "would restart (changed: package:trail-a)")
	wantRestarts(t, sb, ev, list("1.0", "restart-on=package:trail-a"), "c2")
	wantRestarts(t, sb, ev, list("2.0", "restart-on=package:trail-a"), "c3", "would restart (changed: package:trail-a)")
	if got := sb.fs().PkgState("trail-a"); got != "installed 2.0" {
		t.Fatalf("trail-a is %q, want installed 2.0", got)
	}
	wantRestarts(t, sb, ev, list("2.0", "reload-on=package:trail-a"), "c4")
	wantRestarts(t, sb, ev, list("1.0", "reload-on=package:trail-a"), "c5", "would reload (changed: package:trail-a)")
	if got := sb.fs().PkgState("trail-a"); got != "installed 1.0" {
		t.Fatalf("trail-a is %q, want installed 1.0", got)
	}
	// The package goes with the unit's trigger: the applied unit named it.
	wantRestarts(t, sb, ev, "UNIT demo.service running=true\n", "c6", "would reload (changed: package:trail-a)")
	if got := sb.fs().PkgState("trail-a"); got != "absent" {
		t.Fatalf("trail-a is %q, want absent", got)
	}
}

// An undone package upgrade restarts the unit again: the old version is
// back, and the unit must run it.
func TestRestartAfterUndoOfPackage(t *testing.T) {
	sb, ev := newUnitSandbox(t)
	sb.fs().DebRoot()
	sb.fs().AptRepo(sbx.Deb{Name: "trail-a", Version: "1.0"}, sbx.Deb{Name: "trail-a", Version: "2.0"})
	base := "PKG trail-a version=%s\nUNIT demo.service running=true restart-on=package:trail-a\n"
	sb.apply(strings.Replace(base, "%s", "1.0", 1), "c1")
	from := len(*ev)
	if _, err := sb.applyErr(strings.Replace(base, "%s", "2.0", 1)+`CHECK health run="exit 1" timeout=5s`, "c2"); err == nil {
		t.Fatal("the apply with a failing check succeeded")
	}
	if got := sb.fs().PkgState("trail-a"); got != "installed 1.0" {
		t.Fatalf("trail-a is %q after the undo, want installed 1.0", got)
	}
	var after []Event
	for _, e := range restartsIn((*ev)[from:]) {
		if strings.Contains(e.Detail, "put back") {
			after = append(after, e)
		}
	}
	checkRestarts(t, "after the undo", after, "would restart (put back: package:trail-a)")
}

// The plan names the package and the command that call for a restart.
func TestPlanRestartsOnPackageAndCommand(t *testing.T) {
	sb, _ := newUnitSandbox(t)
	sb.fs().DebRoot()
	sb.fs().AptRepo(sbx.Deb{Name: "trail-a", Version: "1.0"}, sbx.Deb{Name: "trail-a", Version: "2.0"})
	list := func(version, run string) string {
		return "PKG trail-a version=" + version + "\n" + `CMD build run="` + run + `" undo="true" timeout=5s` +
			"\nUNIT demo.service running=true restart-on=package:trail-a,command:build\n"
	}
	sb.apply(list("1.0", "true"), "c1")
	for _, tc := range []struct {
		name, steps, want string
	}{
		{"nothing", list("1.0", "true"), ""},
		{"upgrade", list("2.0", "true"), "would restart (changed: package:trail-a)"},
		{"both", list("2.0", "true 2"), "would restart (changed: command:build, package:trail-a)"},
	} {
		p, err := sb.e.Plan(sb.list(tc.steps))
		if err != nil {
			t.Fatalf("%s: plan: %v", tc.name, err)
		}
		var got []string
		for _, r := range p.Restarts {
			got = append(got, strings.Join(append(r.Work.Changes, r.Work.Notes...), "; "))
		}
		if tc.want == "" {
			if len(got) != 0 {
				t.Fatalf("%s: planned restarts %q, want none", tc.name, got)
			}
			continue
		}
		if len(got) != 1 || !strings.Contains(got[0], tc.want) {
			t.Fatalf("%s: planned restarts %q, want one like %q", tc.name, got, tc.want)
		}
	}
}

// An apply killed after a command in restart-on ran is undone when trail
// next opens its state (the command's undo runs), and the unit is
// restarted for it, though only the undone list named the command.
func TestRestartAfterRecoveryOfCommand(t *testing.T) {
	sb, ev := newUnitSandbox(t)
	sb.apply("FILE /etc/demo.conf {v1}\nUNIT demo.service running=true restart-on=/etc/demo.conf\n", "c1")
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
		sb.applyErr(`CMD build run="echo 1 > built" undo="rm -f built" timeout=5s`+
			"\nFILE /etc/demo.conf {v1}\nUNIT demo.service running=true restart-on=/etc/demo.conf,command:build\n", "c2")
	}()
	if !sb.exists("/built") {
		t.Fatal("the command had not run at the crash")
	}
	from := len(*ev)
	sb.open()
	if sb.exists("/built") {
		t.Fatal("recovery did not undo the command")
	}
	checkRestarts(t, "recovery", restartsIn((*ev)[from:]), "would restart (put back: command:build)")
}

// A package trail only marks manually installed (it was there, installed
// as a dependency) restarts nothing: its files stay as they were; nor
// does the removal that marks it automatic again.
func TestRestartOnPackageOnlyMarked(t *testing.T) {
	sb, ev := newUnitSandbox(t)
	sb.fs().DebRoot()
	sb.fs().AptRepo(sbx.Deb{Name: "trail-a", Version: "1.0"})
	sb.fs().DpkgInstall(sbx.BuildDeb(t, t.TempDir(), sbx.Deb{Name: "trail-a", Version: "1.0"}))
	sb.fs().AptMark("auto", "trail-a")
	wantRestarts(t, sb, ev, "PKG trail-a\nUNIT demo.service running=true restart-on=package:trail-a\n", "c1")
	if sb.fs().IsAuto("trail-a") {
		t.Fatal("trail-a is still marked automatically installed")
	}
	wantRestarts(t, sb, ev, "UNIT demo.service running=true\n", "c2")
	if !sb.fs().IsAuto("trail-a") {
		t.Fatal("trail-a was not marked automatically installed again")
	}
}
