package apply

import (
	"strings"
	"testing"
)

// aptRepoSpecs is aptRepo for packages that ship files.
func (sb *sandbox) aptRepoSpecs(specs ...debSpec) {
	sb.t.Helper()
	dir := sb.t.TempDir()
	var debs []string
	for _, d := range specs {
		debs = append(debs, buildDebSpec(sb.t, dir, d))
	}
	writeRepo(sb.t, sb.root, dir, debs)
}

// The reverse of a package trail installed purges it: its conffiles and
// its directory under /etc go, and dpkg's status is as before, byte for
// byte. purge=false leaves its conffiles, as `apt-get remove` does.
func TestPackageReversePurges(t *testing.T) {
	t.Parallel()
	web := debSpec{name: "trail-web", version: "1.0", files: map[string]string{"/etc/trail-web/web.conf": "shipped\n"}}
	t.Run("purged", func(t *testing.T) {
		sb := newDebSandbox(t)
		sb.aptRepoSpecs(web)
		status := sb.read("/var/lib/dpkg/status")
		sb.apply("PKG trail-web", "c1")
		sb.apply("", "c0")
		if sb.exists("/etc/trail-web") {
			t.Fatal("the reverse left /etc/trail-web")
		}
		if got := sb.read("/var/lib/dpkg/status"); got != status {
			t.Fatalf("dpkg status after the reverse:\n%s\nwant:\n%s", got, status)
		}
	})
	t.Run("purge=false", func(t *testing.T) {
		sb := newDebSandbox(t)
		sb.aptRepoSpecs(web)
		sb.apply("PKG trail-web purge=false", "c1")
		sb.apply("", "c0")
		if got := sb.pkgState("trail-web"); got != "config-files 1.0" {
			t.Fatalf("trail-web is %s, want its config files left", got)
		}
		if sb.read("/etc/trail-web/web.conf") != "shipped\n" {
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
		sb := newDebSandbox(t)
		sb.aptRepo(repoDeb{"trail-a", "1.0", ""}, repoDeb{"trail-b", "1.0", "trail-a"})
		before := sb.packages()
		sb.apply(steps, "c1")
		g := sb.apply("", "c0")
		if after := sb.packages(); after != before {
			t.Fatalf("%q: packages after the reverse:\n%s\nwant:\n%s", steps, after, before)
		}
		if len(g.Kept) != 0 {
			t.Fatalf("%q: kept %q, want nothing kept", steps, g.Kept)
		}
		hist := sb.read("/var/log/apt/history.log")
		if n := strings.Count(hist, "Start-Date:"); n != 2 {
			t.Fatalf("%q: %d apt-get calls, want one to install and one to purge:\n%s", steps, n, hist)
		}
	}
}

// A dependency the first package's install brought and a second package
// installed later also needs goes when both go in one apply.
func TestPackageReverseSharedDep(t *testing.T) {
	t.Parallel()
	sb := newDebSandbox(t)
	sb.aptRepo(repoDeb{"trail-a", "1.0", "trail-c"}, repoDeb{"trail-b", "1.0", "trail-c"}, repoDeb{"trail-c", "1.0", ""})
	before := sb.packages()
	sb.apply("PKG trail-a", "c1")
	sb.apply("PKG trail-b\nPKG trail-a", "c2")
	g := sb.apply("", "c0")
	if after := sb.packages(); after != before {
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
	sb := newDebSandbox(t)
	v1 := debSpec{name: "trail-keep", version: "1.0", files: map[string]string{"/etc/trail-keep/keep.conf": "one\n"}}
	v2 := debSpec{name: "trail-keep", version: "2.0", files: map[string]string{"/etc/trail-keep/keep.conf": "two\n"}}
	sb.aptRepoSpecs(v1, v2)
	sb.dpkgInstall(buildDebSpec(t, t.TempDir(), v1))
	sb.aptMark("auto", "trail-keep")
	sb.write("/etc/trail-keep/keep.conf", "mine\n", 0o644)
	before := sb.packages()
	sb.apply("PKG trail-keep version=2.0", "c1")
	if got := sb.read("/etc/trail-keep/keep.conf"); got != "mine\n" {
		t.Fatalf("keep.conf is %q after the upgrade, want the admin's", got)
	}
	sb.apply("", "c0")
	if after := sb.packages(); after != before {
		t.Fatalf("packages after the reverse:\n%s\nwant:\n%s", after, before)
	}
	if got := sb.read("/etc/trail-keep/keep.conf"); got != "mine\n" {
		t.Fatalf("keep.conf is %q after the reverse, want the admin's", got)
	}
}

// Libraries are named with their architecture by dpkg ("lib:amd64") and
// without by apt-get -s: a library two going packages brought goes, and
// one a going package's dependency needs is not called "not trail's".
func TestPackageReverseArchQualifiedDeps(t *testing.T) {
	t.Parallel()
	sb := newDebSandbox(t)
	sb.aptRepoSpecs(debSpec{name: "trail-a", version: "1.0", depends: "trail-liba"},
		debSpec{name: "trail-b", version: "1.0", depends: "trail-liba, trail-libb"},
		debSpec{name: "trail-liba", version: "1.0", depends: "trail-libc", multiArch: true},
		debSpec{name: "trail-libb", version: "1.0", multiArch: true},
		debSpec{name: "trail-libc", version: "1.0", multiArch: true})
	before := sb.packages()
	sb.apply("PKG trail-a\nPKG trail-b", "c1")
	if got := sb.origin("trail-b"); !strings.Contains(got, "trail-libb:") {
		t.Fatalf("origin %q: want the libraries with their architecture, as dpkg names them", got)
	}
	if got := sb.origin("trail-a"); strings.Contains(got, "trail-libb") {
		t.Fatalf("origin of trail-a %q: trail-libb is trail-b's alone", got)
	}
	g := sb.apply("", "c0")
	if after := sb.packages(); after != before {
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
	sb := newDebSandbox(t)
	sb.aptRepo(repoDeb{"trail-a", "1.0", ""}, repoDeb{"trail-b", "1.0", "trail-c"}, repoDeb{"trail-c", "1.0", "trail-a"})
	sb.apply("PKG trail-a\nPKG trail-b\nFILE /srv/x {x}", "c1")
	g := sb.apply("PKG trail-b\nFILE /srv/x {x}", "c2")
	want := "package trail-a kept: removing it would also remove trail-b, trail-c, which this config still installs"
	if len(g.Kept) != 1 || g.Kept[0] != want {
		t.Fatalf("kept %q, want %q", g.Kept, want)
	}
	if got := sb.pkgState("trail-a"); got != "installed 1.0" {
		t.Fatalf("trail-a is %s", got)
	}
}

// A rollback of packages whose check then fails is undone: the packages
// it purged, and the dependency they shared, are installed again with
// their marks.
func TestPackageRemovalUndone(t *testing.T) {
	t.Parallel()
	sb := newDebSandbox(t)
	sb.aptRepo(repoDeb{"trail-a", "1.0", "trail-c"}, repoDeb{"trail-b", "1.0", "trail-c"}, repoDeb{"trail-c", "1.0", ""})
	sb.apply("FILE /srv/base {base}\nPKG trail-b\nPKG trail-a", "c1")
	installed := sb.packages()
	g, err := sb.applyErr("FILE /srv/base {base}\nCHECK gone run=\"exit 1\" timeout=5s", "c2")
	if err == nil || g.Result != ResultFailed {
		t.Fatalf("apply: %v, want the check to fail it", err)
	}
	if got := sb.packages(); got != installed {
		t.Fatalf("packages after the undo:\n%s\nwant:\n%s", got, installed)
	}
}

// Removals split over several groups by the batch size still follow the
// one decision taken before the first.
func TestPackageReverseSplitGroups(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	debRoot(t, sb)
	sb.opts.AllowMassRemoval = true
	sb.opts.batchSize = 1
	sb.open()
	sb.aptRepo(repoDeb{"trail-a", "1.0", "trail-c"}, repoDeb{"trail-b", "1.0", "trail-a, trail-c"}, repoDeb{"trail-c", "1.0", ""})
	before := sb.packages()
	sb.apply("PKG trail-a\nPKG trail-b", "c1")
	g := sb.apply("", "c0")
	if after := sb.packages(); after != before {
		t.Fatalf("packages after the reverse:\n%s\nwant:\n%s", after, before)
	}
	if len(g.Kept) != 0 {
		t.Fatalf("kept %q", g.Kept)
	}
}
