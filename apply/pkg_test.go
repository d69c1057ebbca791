package apply

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"trail/apply/kind"
	"trail/apply/kinds/packages"
	"trail/stepfmt"
)

// debRoot makes the sandbox a Debian root as far as dpkg and apt need:
// an empty dpkg database and apt's directories.
func debRoot(t *testing.T, sb *sandbox) { debRootAt(t, sb.root) }

// debRootAt makes root a Debian root as far as dpkg and apt need.
func debRootAt(t testing.TB, root string) {
	t.Helper()
	for _, d := range []string{"/var/lib/dpkg/info", "/var/lib/dpkg/updates", "/var/lib/dpkg/triggers",
		"/etc/apt/apt.conf.d", "/etc/apt/preferences.d", "/etc/apt/sources.list.d",
		"/var/lib/apt/lists/partial", "/var/cache/apt/archives/partial", "/var/log/apt"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "/var/lib/dpkg/status"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

// buildDeb builds NAME_VERSION_all.deb shipping /usr/share/NAME/version,
// and returns its path. depends, when set, is its Depends field.
func buildDeb(t testing.TB, dir, name, version, depends string) string {
	t.Helper()
	src := filepath.Join(t.TempDir(), name)
	os.MkdirAll(filepath.Join(src, "DEBIAN"), 0o755)
	os.MkdirAll(filepath.Join(src, "usr/share", name), 0o755)
	control := "Package: " + name + "\nVersion: " + version + "\nArchitecture: all\nMaintainer: trail <trail@localhost>\n"
	if depends != "" {
		control += "Depends: " + depends + "\n"
	}
	control += "Description: trail test package\n test\n"
	if err := os.WriteFile(filepath.Join(src, "DEBIAN/control"), []byte(control), 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(src, "usr/share", name, "version"), []byte(version+"\n"), 0o644)
	deb := filepath.Join(dir, name+"_"+version+"_all.deb")
	if out, err := exec.Command("dpkg-deb", "--build", "--root-owner-group", src, deb).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb: %v\n%s", err, out)
	}
	return deb
}

// archive builds a package into the root's apt archive directory.
func (sb *sandbox) archive(name, version, depends string) string {
	return buildDeb(sb.t, sb.host("/var/cache/apt/archives"), name, version, depends)
}

// dpkgInstall installs a .deb into the root by hand, as an admin would.
func (sb *sandbox) dpkgInstall(deb string) {
	sb.t.Helper()
	if out, err := exec.Command("dpkg", "--root="+sb.root, "-i", deb).CombinedOutput(); err != nil {
		sb.t.Fatalf("dpkg -i: %v\n%s", err, out)
	}
}

// pkgState is dpkg's "status version" of name in the root, or "absent".
func (sb *sandbox) pkgState(name string) string {
	sb.t.Helper()
	st, err := packages.Tools{Root: sb.root}.Status(name)
	if err != nil {
		sb.t.Fatal(err)
	}
	return strings.TrimSpace(st.State + " " + st.Version)
}

func (sb *sandbox) aptMark(verb, name string) {
	sb.t.Helper()
	if err := (packages.Tools{Root: sb.root}).Mark(verb == "auto", name); err != nil {
		sb.t.Fatal(err)
	}
}

func newDebSandbox(t *testing.T) *sandbox {
	sb := newSandbox(t)
	debRoot(t, sb)
	sb.opts.AllowMassRemoval = true
	sb.open()
	return sb
}

func TestPackageInstallAndReverse(t *testing.T) {
	sb := newDebSandbox(t)
	sb.archive("trail-hello", "1.0", "")
	sb.archive("trail-hello", "2.0", "")
	sb.apply("PKG trail-hello", "c1")
	if got := sb.pkgState("trail-hello"); got != "installed 2.0" {
		t.Fatalf("after install: %s, want the newest version installed", got)
	}
	if sb.read("/usr/share/trail-hello/version") != "2.0\n" {
		t.Fatal("the package's file is not there")
	}
	auto, _ := packages.Tools{Root: sb.root}.AutoMarked("trail-hello")
	if auto {
		t.Fatal("a package trail installs must be marked manual")
	}
	sb.apply("", "c0")
	if got := sb.pkgState("trail-hello"); got != "absent" {
		t.Fatalf("after reverse: %s, want absent", got)
	}
	if sb.exists("/usr/share/trail-hello/version") {
		t.Fatal("the reverse left the package's file")
	}
}

func TestPackageVersionPin(t *testing.T) {
	sb := newDebSandbox(t)
	sb.archive("trail-hello", "1.0", "")
	sb.archive("trail-hello", "2.0", "")
	sb.apply("PKG trail-hello version=1.0", "c1")
	if got := sb.pkgState("trail-hello"); got != "installed 1.0" {
		t.Fatalf("pinned 1.0: %s", got)
	}
	sb.apply("PKG trail-hello version=2.0", "c2")
	if got := sb.pkgState("trail-hello"); got != "installed 2.0" {
		t.Fatalf("pinned 2.0: %s", got)
	}
	sb.apply("PKG trail-hello version=1.0", "c3")
	if got := sb.pkgState("trail-hello"); got != "installed 1.0" {
		t.Fatalf("pinned back to 1.0 (a downgrade): %s", got)
	}
	sb.apply("", "c0")
	if got := sb.pkgState("trail-hello"); got != "absent" {
		t.Fatalf("after reverse: %s", got)
	}
}

// A package that was there before trail managed it stays installed when
// the step goes, at its old version and with its old mark.
func TestPackagePreinstalledSurvivesReverse(t *testing.T) {
	sb := newDebSandbox(t)
	old := sb.archive("trail-hello", "1.0", "")
	sb.archive("trail-hello", "2.0", "")
	sb.dpkgInstall(old)
	sb.aptMark("auto", "trail-hello")
	sb.apply("PKG trail-hello version=2.0", "c1")
	if got := sb.pkgState("trail-hello"); got != "installed 2.0" {
		t.Fatalf("after the pin: %s", got)
	}
	if auto, _ := (packages.Tools{Root: sb.root}).AutoMarked("trail-hello"); auto {
		t.Fatal("a managed package must be marked manual")
	}
	sb.apply("", "c0")
	if got := sb.pkgState("trail-hello"); got != "installed 1.0" {
		t.Fatalf("after reverse: %s, want the pre-installed 1.0 back", got)
	}
	if auto, _ := (packages.Tools{Root: sb.root}).AutoMarked("trail-hello"); !auto {
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
			sb := newDebSandbox(t)
			sb.archive("trail-hello", "1.0", "")
			before := snapshot(t, sb.root)
			_, err := sb.e.Plan(sb.list(tc.steps))
			var el stepfmt.ErrorList
			if !errors.As(err, &el) || len(el) != 1 {
				t.Fatalf("plan: %v, want one error", err)
			}
			if msg := el[0].Error(); !strings.HasPrefix(msg, "test.steps:1: PKG ") || !strings.Contains(msg, tc.want) {
				t.Fatalf("plan error %q: want it at test.steps:1 saying %q", msg, tc.want)
			}
			g, err := sb.applyErr(tc.steps, "c1")
			if err == nil || g.Result != ResultRefused {
				t.Fatalf("apply: %v, want a refusal", err)
			}
			if after := snapshot(t, sb.root); after != before {
				t.Fatal("a refused apply changed the root")
			}
		})
	}
}

func TestPackageNoDpkgDatabase(t *testing.T) {
	sb := newSandbox(t)
	_, err := sb.e.Plan(sb.list("PKG trail-hello"))
	if err == nil || !strings.Contains(err.Error(), "no dpkg database") {
		t.Fatalf("plan: %v, want a clear error about the root", err)
	}
}

// Consecutive package steps are installed by one apt-get call.
func TestPackageBatch(t *testing.T) {
	sb := newDebSandbox(t)
	sb.archive("trail-a", "1.0", "")
	sb.archive("trail-b", "1.0", "trail-a")
	sb.archive("trail-c", "1.0", "")
	sb.apply("PKG trail-b\nPKG trail-a\nPKG trail-c recommends=true", "c1")
	for _, p := range []string{"trail-a", "trail-b", "trail-c"} {
		if got := sb.pkgState(p); got != "installed 1.0" {
			t.Fatalf("%s: %s", p, got)
		}
	}
	hist := sb.read("/var/log/apt/history.log")
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
	sb := newDebSandbox(t)
	sb.archive("trail-a", "1.0", "")
	sb.archive("trail-broken", "1.0", "trail-missing")
	before := sb.pkgState("trail-a")
	g, err := sb.applyErr("PKG trail-a\nFILE /srv/x {x}\nPKG trail-broken", "c1")
	if err == nil {
		t.Fatal("an uninstallable dependency did not fail the apply")
	}
	if g.Result != ResultFailed || g.ErrorSource != "test.steps:3" {
		t.Fatalf("generation %s at %q, want failed at test.steps:3 (%v)", g.Result, g.ErrorSource, err)
	}
	if got := sb.pkgState("trail-a"); got != before {
		t.Fatalf("trail-a is %s after the rollback, want %s", got, before)
	}
	if sb.exists("/srv/x") {
		t.Fatal("the rollback left the file")
	}
}

func TestPackageDrift(t *testing.T) {
	sb := newDebSandbox(t)
	sb.archive("trail-hello", "1.0", "")
	sb.apply("PKG trail-hello", "c1")
	ds, err := sb.e.Drift()
	if err != nil || len(ds) != 0 {
		t.Fatalf("drift right after apply: %v %v", ds, err)
	}
	if out, err := exec.Command("dpkg", "--root="+sb.root, "-r", "trail-hello").CombinedOutput(); err != nil {
		t.Fatalf("dpkg -r: %v\n%s", err, out)
	}
	ds, err = sb.e.Drift()
	if err != nil || len(ds) != 1 || ds[0].ID.String() != "PKG trail-hello" || ds[0].Now.State != kind.StateAbsent {
		t.Fatalf("drift after a removal by hand: %+v %v", ds, err)
	}
}

// A package another package needs is not removed by the reverse: that
// would remove what trail did not install.
func TestPackageKeptWhenNeeded(t *testing.T) {
	sb := newDebSandbox(t)
	sb.archive("trail-a", "1.0", "")
	sb.apply("PKG trail-a", "c1")
	sb.dpkgInstall(buildDeb(t, t.TempDir(), "trail-user", "1.0", "trail-a"))
	g := sb.apply("", "c0")
	if got := sb.pkgState("trail-a"); got != "installed 1.0" {
		t.Fatalf("trail-a is %s, want it kept", got)
	}
	if g.Counts.Kept != 1 || !strings.Contains(strings.Join(g.Kept, "\n"), "trail-user") {
		t.Fatalf("kept %d %q, want the reason naming trail-user", g.Counts.Kept, g.Kept)
	}
}
