package packages_test

import (
	"os/exec"
	"strings"
	"testing"

	"trail/apply/internal/sandbox"
	"trail/apply/internal/sandbox/engine"
	"trail/stepfmt"
)

// A package installed with a dependency that was absent: the reverse
// removes both, and the root's packages are as before.
func TestPackageDepsRemovedWithPackage(t *testing.T) {
	t.Parallel()
	sb := engine.NewDeb(t)
	sb.AptRepo(sandbox.Deb{Name: "trail-a", Version: "1.0", Depends: "trail-b"}, sandbox.Deb{Name: "trail-b", Version: "1.0", Depends: ""})
	before := sb.Packages()
	status := sb.Read("/var/lib/dpkg/status")
	sb.Apply("PKG trail-a", "c1")
	if got := sb.PkgState("trail-b"); got != "installed 1.0" {
		t.Fatalf("trail-b is %s, want installed with trail-a", got)
	}
	if !sb.IsAuto("trail-b") || sb.IsAuto("trail-a") {
		t.Fatal("want trail-a manual, its dependency auto")
	}
	if got := sb.Origin(stepfmt.KindPackage, "trail-a"); got != "absent deps=trail-b" {
		t.Fatalf("origin %q, want the dependency recorded and the prediction gone", got)
	}
	g := sb.Apply("", "c0")
	if after := sb.Packages(); after != before {
		t.Fatalf("packages after the reverse:\n%s\nwant:\n%s", after, before)
	}
	if g.Counts.Kept != 0 {
		t.Fatalf("kept %q, want nothing kept", g.Kept)
	}
	if got := sb.Read("/var/lib/dpkg/status"); got != status {
		t.Fatalf("dpkg status differs after the reverse:\n%s\nwant:\n%s", got, status)
	}
}

// A dependency that was installed before trail's call is never removed,
// even one marked automatic that nothing needs any more.
func TestPackageDepPreinstalledStays(t *testing.T) {
	t.Parallel()
	sb := engine.NewDeb(t)
	sb.AptRepo(sandbox.Deb{Name: "trail-a", Version: "1.0", Depends: "trail-b"}, sandbox.Deb{Name: "trail-b", Version: "1.0", Depends: ""})
	sb.DpkgInstall(sandbox.BuildDeb(t, t.TempDir(), sandbox.Deb{Name: "trail-b", Version: "1.0", Depends: ""}))
	sb.AptMark("auto", "trail-b")
	before := sb.Packages()
	sb.Apply("PKG trail-a", "c1")
	if got := sb.Origin(stepfmt.KindPackage, "trail-a"); got != "absent" {
		t.Fatalf("origin %q, want no dependency recorded", got)
	}
	g := sb.Apply("", "c0")
	if after := sb.Packages(); after != before {
		t.Fatalf("packages after the reverse:\n%s\nwant:\n%s", after, before)
	}
	if g.Counts.Kept != 0 {
		t.Fatalf("kept %q", g.Kept)
	}
}

// A dependency another package has come to need, or an admin has marked
// manual since, stays, and the reverse says so.
func TestPackageDepKept(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		after func(sb *engine.Sandbox)
		want  string
	}{
		"needed by a package installed by hand": {
			func(sb *engine.Sandbox) {
				sb.DpkgInstall(sandbox.BuildDeb(sb.T, sb.T.TempDir(), sandbox.Deb{Name: "trail-c", Version: "1.0", Depends: "trail-b"}))
			},
			"package trail-b kept: trail installed it for trail-a, but trail-c still needs it",
		},
		"marked manual since": {
			func(sb *engine.Sandbox) { sb.AptMark("manual", "trail-b") },
			"package trail-b kept: trail installed it for trail-a, but it has been marked manually installed since",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			sb := engine.NewDeb(t)
			sb.AptRepo(sandbox.Deb{Name: "trail-a", Version: "1.0", Depends: "trail-b"}, sandbox.Deb{Name: "trail-b", Version: "1.0", Depends: ""})
			sb.Apply("PKG trail-a", "c1")
			tc.after(sb)
			g := sb.Apply("", "c0")
			if got := sb.PkgState("trail-a"); got != "absent" {
				t.Fatalf("trail-a is %s, want removed", got)
			}
			if got := sb.PkgState("trail-b"); got != "installed 1.0" {
				t.Fatalf("trail-b is %s, want kept", got)
			}
			if g.Counts.Kept != 1 || len(g.Kept) != 1 || g.Kept[0] != tc.want {
				t.Fatalf("kept %d %q, want %q", g.Counts.Kept, g.Kept, tc.want)
			}
		})
	}
}

// Packages installed by one apt-get call each keep the dependencies they
// need: removing one takes its own and leaves, naming why, one the other
// still needs.
func TestPackageDepsSplitAcrossBatch(t *testing.T) {
	t.Parallel()
	sb := engine.NewDeb(t)
	sb.AptRepo(sandbox.Deb{Name: "trail-a", Version: "1.0", Depends: "trail-b"}, sandbox.Deb{Name: "trail-b", Version: "1.0", Depends: ""},
		sandbox.Deb{Name: "trail-c", Version: "1.0", Depends: "trail-d, trail-e"}, sandbox.Deb{Name: "trail-d", Version: "1.0", Depends: ""}, sandbox.Deb{Name: "trail-e", Version: "1.0", Depends: "trail-b"})
	sb.Apply("PKG trail-a\nPKG trail-c\nFILE /srv/x {x}", "c1")
	if n := strings.Count(sb.Read("/var/log/apt/history.log"), "Start-Date:"); n != 1 {
		t.Fatalf("%d apt-get calls, want one", n)
	}
	if got := sb.Origin(stepfmt.KindPackage, "trail-a"); got != "absent deps=trail-b" {
		t.Fatalf("trail-a origin %q", got)
	}
	if got := sb.Origin(stepfmt.KindPackage, "trail-c"); got != "absent deps=trail-b,trail-d,trail-e" {
		t.Fatalf("trail-c origin %q", got)
	}
	g := sb.Apply("PKG trail-c\nFILE /srv/x {x}", "c2")
	if want := "package trail-b kept: trail installed it for trail-a, but trail-e still needs it"; len(g.Kept) != 1 || g.Kept[0] != want {
		t.Fatalf("kept %q, want %q", g.Kept, want)
	}
	for p, want := range map[string]string{"trail-a": "absent", "trail-b": "installed 1.0", "trail-d": "installed 1.0", "trail-e": "installed 1.0"} {
		if got := sb.PkgState(p); got != want {
			t.Fatalf("%s is %s, want %s", p, got, want)
		}
	}
	sb.Apply("FILE /srv/x {x}", "c3")
	for _, p := range []string{"trail-b", "trail-c", "trail-d", "trail-e"} {
		if got := sb.PkgState(p); got != "absent" {
			t.Fatalf("%s is %s, want removed with trail-c", p, got)
		}
	}
}

// A new version that needs a new package brings it into the origin: the
// reverse removes it, whether trail installed the package or an admin
// had an older version before.
func TestPackageDepsOfNewVersion(t *testing.T) {
	t.Parallel()
	repo := []sandbox.Deb{{Name: "trail-a", Version: "1.0"}, {Name: "trail-a", Version: "2.0", Depends: "trail-b"}, {Name: "trail-b", Version: "1.0"}}
	t.Run("installed by trail", func(t *testing.T) {
		sb := engine.NewDeb(t)
		sb.AptRepo(repo...)
		before := sb.Packages()
		sb.Apply("PKG trail-a version=1.0", "c1")
		sb.Apply("PKG trail-a version=2.0", "c2")
		if got := sb.Origin(stepfmt.KindPackage, "trail-a"); got != "absent deps=trail-b" {
			t.Fatalf("origin %q", got)
		}
		sb.Apply("", "c0")
		if after := sb.Packages(); after != before {
			t.Fatalf("packages after the reverse:\n%s\nwant:\n%s", after, before)
		}
	})
	t.Run("pre-installed", func(t *testing.T) {
		sb := engine.NewDeb(t)
		sb.AptRepo(repo...)
		sb.DpkgInstall(sandbox.BuildDeb(t, t.TempDir(), sandbox.Deb{Name: "trail-a", Version: "1.0", Depends: ""}))
		sb.AptMark("auto", "trail-a")
		before := sb.Packages()
		sb.Apply("PKG trail-a version=2.0", "c1")
		if got := sb.Origin(stepfmt.KindPackage, "trail-a"); got != "installed version=1.0 mark=auto deps=trail-b" {
			t.Fatalf("origin %q", got)
		}
		sb.Apply("", "c0")
		if after := sb.Packages(); after != before {
			t.Fatalf("packages after the reverse:\n%s\nwant:\n%s", after, before)
		}
	})
}

// A failed apply undoes the install with its dependencies.
func TestPackageDepsUndoneOnFailure(t *testing.T) {
	t.Parallel()
	sb := engine.NewDeb(t)
	sb.AptRepo(sandbox.Deb{Name: "trail-a", Version: "1.0", Depends: "trail-b"}, sandbox.Deb{Name: "trail-b", Version: "1.0", Depends: ""}, sandbox.Deb{Name: "trail-broken", Version: "1.0", Depends: "trail-missing"})
	before := sb.Packages()
	if _, err := sb.ApplyErr("PKG trail-a\nFILE /srv/x {x}\nPKG trail-broken", "c1"); err == nil {
		t.Fatal("an uninstallable dependency did not fail the apply")
	}
	if after := sb.Packages(); after != before {
		t.Fatalf("packages after the rollback:\n%s\nwant:\n%s", after, before)
	}
}

// A new dependency two packages installed in different applies share: trail-b, installed in a later apply than
// trail-a, finds trail-d there; trail-a goes first, trail-b last. trail-d
// had config files left before trail: it is removed, not purged, as the
// record of the install that brought it says.
func TestPackageSharedDepAcrossApplies(t *testing.T) {
	t.Parallel()
	sb := engine.NewDeb(t)
	d := sandbox.Deb{Name: "trail-d", Version: "1.0", Files: map[string]string{"/etc/trail-d.conf": "d\n"}}
	sb.AptRepo(sandbox.Deb{Name: "trail-a", Version: "1.0", Depends: "trail-d"}, sandbox.Deb{Name: "trail-b", Version: "1.0", Depends: "trail-d"}, d)
	sb.DpkgInstall(sandbox.BuildDeb(t, t.TempDir(), d))
	if out, err := exec.Command("dpkg", "--root="+sb.Dir, "--remove", "trail-d").CombinedOutput(); err != nil {
		t.Fatalf("dpkg --remove: %v\n%s", err, out)
	}
	before := sb.Packages()
	if !strings.Contains(before, "trail-d config-files") {
		t.Fatalf("trail-d has no config files left:\n%s", before)
	}
	sb.Apply("PKG trail-a", "c1")
	sb.Apply("PKG trail-a\nPKG trail-b", "c2")
	if got := sb.Origin(stepfmt.KindPackage, "trail-b"); got != "absent deps=trail-d confdeps=trail-d" {
		t.Fatalf("trail-b's origin %q, want trail-d, which trail-a's install brought, with its config files", got)
	}
	sb.Apply("PKG trail-b", "c3")
	if got := sb.PkgState("trail-d"); got != "installed 1.0" {
		t.Fatalf("trail-d is %q, want kept for trail-b", got)
	}
	if g := sb.Apply("", "c0"); len(g.Kept) != 0 {
		t.Fatalf("kept %q", g.Kept)
	}
	if after := sb.Packages(); after != before {
		t.Fatalf("packages after the rollback:\n%s\nwant:\n%s", after, before)
	}
}
