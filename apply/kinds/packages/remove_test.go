package packages_test

import (
	"strings"
	"testing"

	"trail/apply"
	"trail/apply/internal/sandbox"
	"trail/apply/internal/sandbox/engine"
	"trail/stepfmt"
)

// The reverse of a package trail installed purges it: its conffiles and
// its directory under /etc go, and dpkg's status is as before, byte for
// byte. purge=false leaves its conffiles, as `apt-get remove` does.
func TestPackageReversePurges(t *testing.T) {
	t.Parallel()
	web := sandbox.Deb{Name: "trail-web", Version: "1.0", Files: map[string]string{"/etc/trail-web/web.conf": "shipped\n"}}
	t.Run("purged", func(t *testing.T) {
		sb := engine.NewDeb(t)
		sb.AptRepo(web)
		status := sb.Read("/var/lib/dpkg/status")
		sb.Apply("PKG trail-web", "c1")
		sb.Apply("", "c0")
		if sb.Exists("/etc/trail-web") {
			t.Fatal("the reverse left /etc/trail-web")
		}
		if got := sb.Read("/var/lib/dpkg/status"); got != status {
			t.Fatalf("dpkg status after the reverse:\n%s\nwant:\n%s", got, status)
		}
	})
	t.Run("purge=false", func(t *testing.T) {
		sb := engine.NewDeb(t)
		sb.AptRepo(web)
		sb.Apply("PKG trail-web purge=false", "c1")
		sb.Apply("", "c0")
		if got := sb.PkgState("trail-web"); got != "config-files 1.0" {
			t.Fatalf("trail-web is %s, want its config files left", got)
		}
		if sb.Read("/etc/trail-web/web.conf") != "shipped\n" {
			t.Fatal("the conffile is gone")
		}
	})
}

// A package and one that depends on it, both installed by trail, go
// together, whatever their order in the list; no note calls either one
// "not installed by trail".
func TestPackageReverseTogether(t *testing.T) {
	t.Parallel()
	for _, steps := range []string{"PKG trail-b\nPKG trail-a", "PKG trail-a\nPKG trail-b"} {
		sb := engine.NewDeb(t)
		sb.AptRepo(sandbox.Deb{Name: "trail-a", Version: "1.0", Depends: ""}, sandbox.Deb{Name: "trail-b", Version: "1.0", Depends: "trail-a"})
		before := sb.Packages()
		sb.Apply(steps, "c1")
		g := sb.Apply("", "c0")
		if after := sb.Packages(); after != before {
			t.Fatalf("%q: packages after the reverse:\n%s\nwant:\n%s", steps, after, before)
		}
		if len(g.Kept) != 0 {
			t.Fatalf("%q: kept %q, want nothing kept", steps, g.Kept)
		}
		hist := sb.Read("/var/log/apt/history.log")
		if n := strings.Count(hist, "Start-Date:"); n != 2 {
			t.Fatalf("%q: %d apt-get calls, want one to install and one to purge:\n%s", steps, n, hist)
		}
	}
}

// A dependency the first package's install brought and a second package
// installed later also needs goes when both go in one apply.
func TestPackageReverseSharedDep(t *testing.T) {
	t.Parallel()
	sb := engine.NewDeb(t)
	sb.AptRepo(sandbox.Deb{Name: "trail-a", Version: "1.0", Depends: "trail-c"}, sandbox.Deb{Name: "trail-b", Version: "1.0", Depends: "trail-c"}, sandbox.Deb{Name: "trail-c", Version: "1.0", Depends: ""})
	before := sb.Packages()
	sb.Apply("PKG trail-a", "c1")
	sb.Apply("PKG trail-b\nPKG trail-a", "c2")
	g := sb.Apply("", "c0")
	if after := sb.Packages(); after != before {
		t.Fatalf("packages after the reverse:\n%s\nwant:\n%s", after, before)
	}
	if len(g.Kept) != 0 {
		t.Fatalf("kept %q", g.Kept)
	}
}

// A package an admin installed and changed a conffile of keeps, after
// trail pinned a newer version and the pin went, its old version, its
// auto mark and the changed conffile.
func TestPackagePreinstalledKeepsConffile(t *testing.T) {
	t.Parallel()
	sb := engine.NewDeb(t)
	v1 := sandbox.Deb{Name: "trail-keep", Version: "1.0", Files: map[string]string{"/etc/trail-keep/keep.conf": "one\n"}}
	v2 := sandbox.Deb{Name: "trail-keep", Version: "2.0", Files: map[string]string{"/etc/trail-keep/keep.conf": "two\n"}}
	sb.AptRepo(v1, v2)
	sb.DpkgInstall(sandbox.BuildDeb(t, t.TempDir(), v1))
	sb.AptMark("auto", "trail-keep")
	sb.Write("/etc/trail-keep/keep.conf", "mine\n", 0o644)
	before := sb.Packages()
	sb.Apply("PKG trail-keep version=2.0", "c1")
	if got := sb.Read("/etc/trail-keep/keep.conf"); got != "mine\n" {
		t.Fatalf("keep.conf is %q after the upgrade, want the admin's", got)
	}
	sb.Apply("", "c0")
	if after := sb.Packages(); after != before {
		t.Fatalf("packages after the reverse:\n%s\nwant:\n%s", after, before)
	}
	if got := sb.Read("/etc/trail-keep/keep.conf"); got != "mine\n" {
		t.Fatalf("keep.conf is %q after the reverse, want the admin's", got)
	}
}

// Libraries are named with their architecture by dpkg ("lib:amd64") and
// without by apt-get -s: a library two going packages brought goes, and
// one a going package's dependency needs is not called "not trail's".
func TestPackageReverseArchQualifiedDeps(t *testing.T) {
	t.Parallel()
	sb := engine.NewDeb(t)
	sb.AptRepo(sandbox.Deb{Name: "trail-a", Version: "1.0", Depends: "trail-liba"},
		sandbox.Deb{Name: "trail-b", Version: "1.0", Depends: "trail-liba, trail-libb"},
		sandbox.Deb{Name: "trail-liba", Version: "1.0", Depends: "trail-libc", MultiArch: true},
		sandbox.Deb{Name: "trail-libb", Version: "1.0", MultiArch: true},
		sandbox.Deb{Name: "trail-libc", Version: "1.0", MultiArch: true})
	before := sb.Packages()
	sb.Apply("PKG trail-a\nPKG trail-b", "c1")
	if got := sb.Origin(stepfmt.KindPackage, "trail-b"); !strings.Contains(got, "trail-libb:") {
		t.Fatalf("origin %q: want the libraries with their architecture, as dpkg names them", got)
	}
	if got := sb.Origin(stepfmt.KindPackage, "trail-a"); strings.Contains(got, "trail-libb") {
		t.Fatalf("origin of trail-a %q: trail-libb is trail-b's alone", got)
	}
	g := sb.Apply("", "c0")
	if after := sb.Packages(); after != before {
		t.Fatalf("packages after the reverse:\n%s\nwant:\n%s", after, before)
	}
	if len(g.Kept) != 0 {
		t.Fatalf("kept %q", g.Kept)
	}
}

// A package that goes would take with it one trail installed for a
// package that stays: it is kept, and the note says the config still
// installs what it would take.
func TestPackageKeptForWhatStays(t *testing.T) {
	t.Parallel()
	sb := engine.NewDeb(t)
	sb.AptRepo(sandbox.Deb{Name: "trail-a", Version: "1.0", Depends: ""}, sandbox.Deb{Name: "trail-b", Version: "1.0", Depends: "trail-c"}, sandbox.Deb{Name: "trail-c", Version: "1.0", Depends: "trail-a"})
	sb.Apply("PKG trail-a\nPKG trail-b\nFILE /srv/x {x}", "c1")
	g := sb.Apply("PKG trail-b\nFILE /srv/x {x}", "c2")
	want := "package trail-a kept: removing it would also remove trail-b, trail-c, which this config still installs"
	if len(g.Kept) != 1 || g.Kept[0] != want {
		t.Fatalf("kept %q, want %q", g.Kept, want)
	}
	if got := sb.PkgState("trail-a"); got != "installed 1.0" {
		t.Fatalf("trail-a is %s", got)
	}
}

// A rollback of packages whose check then fails is undone: the packages
// it purged, and the dependency they shared, are installed again with
// their marks.
func TestPackageRemovalUndone(t *testing.T) {
	t.Parallel()
	sb := engine.NewDeb(t)
	sb.AptRepo(sandbox.Deb{Name: "trail-a", Version: "1.0", Depends: "trail-c"}, sandbox.Deb{Name: "trail-b", Version: "1.0", Depends: "trail-c"}, sandbox.Deb{Name: "trail-c", Version: "1.0", Depends: ""})
	sb.Apply("FILE /srv/base {base}\nPKG trail-b\nPKG trail-a", "c1")
	installed := sb.Packages()
	g, err := sb.ApplyErr("FILE /srv/base {base}\nCHECK gone run=\"exit 1\" timeout=5s", "c2")
	if err == nil || g.Result != apply.ResultFailed {
		t.Fatalf("apply: %v, want the check to fail it", err)
	}
	if got := sb.Packages(); got != installed {
		t.Fatalf("packages after the undo:\n%s\nwant:\n%s", got, installed)
	}
}
