package packages_test

import (
	"errors"
	"os/exec"
	"strings"
	"testing"

	"trail/apply"
	"trail/apply/internal/sandbox"
	"trail/apply/internal/sandbox/engine"
	"trail/apply/kind"
	"trail/apply/kinds/packages"
	"trail/stepfmt"
)

func TestPackageInstallAndReverse(t *testing.T) {
	sb := engine.NewDeb(t)
	sb.Archive("trail-hello", "1.0", "")
	sb.Archive("trail-hello", "2.0", "")
	sb.Apply("PKG trail-hello", "c1")
	if got := sb.PkgState("trail-hello"); got != "installed 2.0" {
		t.Fatalf("after install: %s, want the newest version installed", got)
	}
	if sb.Read("/usr/share/trail-hello/version") != "2.0\n" {
		t.Fatal("the package's file is not there")
	}
	auto, _ := packages.Tools{Root: sb.Dir}.AutoMarked("trail-hello")
	if auto {
		t.Fatal("a package trail installs must be marked manual")
	}
	sb.Apply("", "c0")
	if got := sb.PkgState("trail-hello"); got != "absent" {
		t.Fatalf("after reverse: %s, want absent", got)
	}
	if sb.Exists("/usr/share/trail-hello/version") {
		t.Fatal("the reverse left the package's file")
	}
}

func TestPackageVersionPin(t *testing.T) {
	sb := engine.NewDeb(t)
	sb.Archive("trail-hello", "1.0", "")
	sb.Archive("trail-hello", "2.0", "")
	sb.Apply("PKG trail-hello version=1.0", "c1")
	if got := sb.PkgState("trail-hello"); got != "installed 1.0" {
		t.Fatalf("pinned 1.0: %s", got)
	}
	sb.Apply("PKG trail-hello version=2.0", "c2")
	if got := sb.PkgState("trail-hello"); got != "installed 2.0" {
		t.Fatalf("pinned 2.0: %s", got)
	}
	sb.Apply("PKG trail-hello version=1.0", "c3")
	if got := sb.PkgState("trail-hello"); got != "installed 1.0" {
		t.Fatalf("pinned back to 1.0 (a downgrade): %s", got)
	}
	sb.Apply("", "c0")
	if got := sb.PkgState("trail-hello"); got != "absent" {
		t.Fatalf("after reverse: %s", got)
	}
}

// A package that was there before trail managed it stays installed when
// the step goes, at its old version and with its old mark.
func TestPackagePreinstalledSurvivesReverse(t *testing.T) {
	sb := engine.NewDeb(t)
	old := sb.Archive("trail-hello", "1.0", "")
	sb.Archive("trail-hello", "2.0", "")
	sb.DpkgInstall(old)
	sb.AptMark("auto", "trail-hello")
	sb.Apply("PKG trail-hello version=2.0", "c1")
	if got := sb.PkgState("trail-hello"); got != "installed 2.0" {
		t.Fatalf("after the pin: %s", got)
	}
	if auto, _ := (packages.Tools{Root: sb.Dir}).AutoMarked("trail-hello"); auto {
		t.Fatal("a managed package must be marked manual")
	}
	sb.Apply("", "c0")
	if got := sb.PkgState("trail-hello"); got != "installed 1.0" {
		t.Fatalf("after reverse: %s, want the pre-installed 1.0 back", got)
	}
	if auto, _ := (packages.Tools{Root: sb.Dir}).AutoMarked("trail-hello"); !auto {
		t.Fatal("the reverse did not put back the auto mark")
	}
}

func TestPackageUnknownFailsAtPlan(t *testing.T) {
	cases := map[string]struct {
		steps, want string
	}{
		"no such package": {"PKG trail-nothere", "package trail-nothere does not exist"},
		"no such version": {"PKG trail-hello version=9.9", "package trail-hello has no version 9.9"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			sb := engine.NewDeb(t)
			sb.Archive("trail-hello", "1.0", "")
			before := sandbox.Snapshot(t, sb.Dir)
			_, err := sb.E.Plan(sb.List(tc.steps))
			var el stepfmt.ErrorList
			if !errors.As(err, &el) || len(el) != 1 {
				t.Fatalf("plan: %v, want one error", err)
			}
			if msg := el[0].Error(); !strings.HasPrefix(msg, "test.steps:1: PKG ") || !strings.Contains(msg, tc.want) {
				t.Fatalf("plan error %q: want it at test.steps:1 saying %q", msg, tc.want)
			}
			g, err := sb.ApplyErr(tc.steps, "c1")
			if err == nil || g.Result != apply.ResultRefused {
				t.Fatalf("apply: %v, want a refusal", err)
			}
			if after := sandbox.Snapshot(t, sb.Dir); after != before {
				t.Fatal("a refused apply changed the root")
			}
		})
	}
}

func TestPackageNoDpkgDatabase(t *testing.T) {
	sb := engine.New(t)
	_, err := sb.E.Plan(sb.List("PKG trail-hello"))
	if err == nil || !strings.Contains(err.Error(), "no dpkg database") {
		t.Fatalf("plan: %v, want a clear error about the root", err)
	}
}

// Consecutive package steps are installed by one apt-get call.
func TestPackageBatch(t *testing.T) {
	sb := engine.NewDeb(t)
	sb.Archive("trail-a", "1.0", "")
	sb.Archive("trail-b", "1.0", "trail-a")
	sb.Archive("trail-c", "1.0", "")
	sb.Apply("PKG trail-b\nPKG trail-a\nPKG trail-c recommends=true", "c1")
	for _, p := range []string{"trail-a", "trail-b", "trail-c"} {
		if got := sb.PkgState(p); got != "installed 1.0" {
			t.Fatalf("%s: %s", p, got)
		}
	}
	hist := sb.Read("/var/log/apt/history.log")
	if n := strings.Count(hist, "Start-Date:"); n != 2 {
		t.Fatalf("%d apt-get calls, want 2 (one per recommends setting):\n%s", n, hist)
	}
	if !strings.Contains(hist, "trail-b") || !strings.Contains(hist, "trail-a") {
		t.Fatalf("history does not name the batch:\n%s", hist)
	}
}

// An apt-get call that fails rolls the apply back: packages installed by
// an earlier call of the same apply are removed again.
func TestPackageFailureRollsBack(t *testing.T) {
	sb := engine.NewDeb(t)
	sb.Archive("trail-a", "1.0", "")
	sb.Archive("trail-broken", "1.0", "trail-missing")
	before := sb.PkgState("trail-a")
	g, err := sb.ApplyErr("PKG trail-a\nFILE /srv/x {x}\nPKG trail-broken", "c1")
	if err == nil {
		t.Fatal("an uninstallable dependency did not fail the apply")
	}
	if g.Result != apply.ResultFailed || g.ErrorSource != "test.steps:3" {
		t.Fatalf("generation %s at %q, want failed at test.steps:3 (%v)", g.Result, g.ErrorSource, err)
	}
	if got := sb.PkgState("trail-a"); got != before {
		t.Fatalf("trail-a is %s after the rollback, want %s", got, before)
	}
	if sb.Exists("/srv/x") {
		t.Fatal("the rollback left the file")
	}
}

func TestPackageDrift(t *testing.T) {
	sb := engine.NewDeb(t)
	sb.Archive("trail-hello", "1.0", "")
	sb.Apply("PKG trail-hello", "c1")
	ds, err := sb.E.Drift()
	if err != nil || len(ds) != 0 {
		t.Fatalf("drift right after apply: %v %v", ds, err)
	}
	if out, err := exec.Command("dpkg", "--root="+sb.Dir, "-r", "trail-hello").CombinedOutput(); err != nil {
		t.Fatalf("dpkg -r: %v\n%s", err, out)
	}
	ds, err = sb.E.Drift()
	if err != nil || len(ds) != 1 || ds[0].ID.String() != "PKG trail-hello" || ds[0].Now.State != kind.StateAbsent {
		t.Fatalf("drift after a removal by hand: %+v %v", ds, err)
	}
}

// A package another package needs is not removed by the reverse: that
// would remove what trail did not install.
func TestPackageKeptWhenNeeded(t *testing.T) {
	sb := engine.NewDeb(t)
	sb.Archive("trail-a", "1.0", "")
	sb.Apply("PKG trail-a", "c1")
	sb.DpkgInstall(sandbox.BuildDeb(t, t.TempDir(), sandbox.Deb{Name: "trail-user", Version: "1.0", Depends: "trail-a"}))
	g := sb.Apply("", "c0")
	if got := sb.PkgState("trail-a"); got != "installed 1.0" {
		t.Fatalf("trail-a is %s, want it kept", got)
	}
	if g.Counts.Kept != 1 || !strings.Contains(strings.Join(g.Kept, "\n"), "trail-user") {
		t.Fatalf("kept %d %q, want the reason naming trail-user", g.Counts.Kept, g.Kept)
	}
}
