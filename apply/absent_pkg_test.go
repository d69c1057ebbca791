package apply

import (
	"context"
	"strings"
	"testing"

	sbx "trail/apply/internal/sandbox"
	"trail/apply/kinds/packages"
)

// absentRepo is a Debian root whose apt knows trail-old (with a conffile),
// trail-needs and the trail-lib it depends on, all three installed by the
// admin before trail.
func absentRepo(t *testing.T) *sandbox {
	sb := newSandbox(t)
	sb.fs().DebRoot()
	sb.fs().AptRepo(sbx.Deb{Name: "trail-old", Version: "1.0", Files: map[string]string{"/etc/trail-old.conf": "default\n"}},
		sbx.Deb{Name: "trail-needs", Version: "1.0", Depends: "trail-lib"}, sbx.Deb{Name: "trail-lib", Version: "1.0"})
	if out, err := (packages.Tools{Root: sb.root}).Apt("apt-get", "-y", "-q", "install", "trail-old", "trail-needs"); err != nil {
		t.Fatalf("apt-get install: %v\n%s", err, out)
	}
	sb.write("/etc/trail-old.conf", "admin's\n", 0o644)
	return sb
}

// An absent package is removed, its conffiles kept; applying again changes
// nothing; when the step goes, the same version comes back with its mark
// and the admin's conffile.
func TestAbsentPackage(t *testing.T) {
	t.Parallel()
	sb := absentRepo(t)
	before := sb.fs().Packages()
	g := sb.apply("PKG trail-old absent=true", "c1")
	if g.Counts.Added != 1 || sb.fs().PkgState("trail-old") != "config-files 1.0" {
		t.Fatalf("counts %+v, state %q", g.Counts, sb.fs().PkgState("trail-old"))
	}
	if g := sb.apply("PKG trail-old absent=true", "c2"); g.Counts.Added+g.Counts.Modified+g.Counts.Removed != 0 {
		t.Fatalf("a second apply changed something: %+v", g.Counts)
	}
	if d, err := sb.e.Drift(); err != nil || len(d) != 0 {
		t.Fatalf("drift: %v %v", d, err)
	}
	g, err := sb.e.Apply(context.Background(), sb.list("DIR /srv/a"), Meta{Commit: "c3", Deliberate: true})
	if err != nil || g.Counts.Removed != 1 {
		t.Fatalf("apply c3: %v %+v", err, g)
	}
	if after := sb.fs().Packages(); after != before {
		t.Fatalf("packages after the reverse:\n%s\nwant:\n%s", after, before)
	}
	if got := sb.read("/etc/trail-old.conf"); got != "admin's\n" {
		t.Fatalf("conffile after the reverse: %q", got)
	}
}

// A package others depend on is refused, naming them, unless they are
// absent too and come first; installed again by hand, it is drift.
func TestAbsentPackageDependants(t *testing.T) {
	t.Parallel()
	sb := absentRepo(t)
	before := sb.fs().Packages()
	_, err := sb.applyErr("PKG trail-lib absent=true", "c1")
	if err == nil || !strings.Contains(err.Error(), "removing package trail-lib would also remove trail-needs") {
		t.Fatalf("err = %v", err)
	}
	if after := sb.fs().Packages(); after != before {
		t.Fatalf("a refused apply changed packages:\n%s", after)
	}
	sb.apply("PKG trail-needs absent=true purge=true\nPKG trail-lib absent=true purge=true", "c2")
	for _, p := range []string{"trail-needs", "trail-lib"} {
		if st := sb.fs().PkgState(p); st != "absent" {
			t.Fatalf("%s is %q", p, st)
		}
	}
	if out, err := (packages.Tools{Root: sb.root}).Apt("apt-get", "-y", "-q", "install", "trail-lib"); err != nil {
		t.Fatalf("apt-get install: %v\n%s", err, out)
	}
	d, err := sb.e.Drift()
	if err != nil || len(d) != 1 || d[0].ID.String() != "PKG trail-lib" {
		t.Fatalf("drift = %+v, %v", d, err)
	}
}

// A package whose version apt no longer has is left absent by the
// reverse, which says so.
func TestAbsentPackageVersionGone(t *testing.T) {
	t.Parallel()
	sb := absentRepo(t)
	sb.apply("PKG trail-needs absent=true", "c1")
	sb.fs().AptRepo(sbx.Deb{Name: "trail-needs", Version: "2.0", Depends: "trail-lib"}, sbx.Deb{Name: "trail-lib", Version: "1.0"})
	g, err := sb.e.Apply(context.Background(), sb.list("DIR /srv/a"), Meta{Commit: "c2", Deliberate: true})
	if err != nil {
		t.Fatal(err)
	}
	if st := sb.fs().PkgState("trail-needs"); st != "absent" {
		t.Fatalf("trail-needs is %q", st)
	}
	if !strings.Contains(strings.Join(g.Kept, "\n"), "its version 1.0 cannot be installed again") {
		t.Fatalf("kept = %q", g.Kept)
	}
}

// Purging is refused when it would delete a conffile changed by hand,
// which reinstalling the version could not give back.
func TestAbsentPackagePurgeChangedConffile(t *testing.T) {
	t.Parallel()
	sb := absentRepo(t)
	_, err := sb.applyErr("PKG trail-old absent=true purge=true", "c1")
	if err == nil || !strings.Contains(err.Error(), "purging package trail-old would delete /etc/trail-old.conf") {
		t.Fatalf("err = %v", err)
	}
	if st := sb.fs().PkgState("trail-old"); st != "installed 1.0" {
		t.Fatalf("trail-old is %q", st)
	}
	sb.write("/etc/trail-old.conf", "default\n", 0o644)
	sb.apply("PKG trail-old absent=true purge=true", "c2")
	if st := sb.fs().PkgState("trail-old"); st != "absent" || sb.exists("/etc/trail-old.conf") {
		t.Fatalf("trail-old is %q after purge", st)
	}
	if _, err := sb.e.Apply(context.Background(), sb.list("DIR /srv/a"), Meta{Commit: "c3", Deliberate: true}); err != nil {
		t.Fatal(err)
	}
	if got := sb.read("/etc/trail-old.conf"); got != "default\n" || sb.fs().PkgState("trail-old") != "installed 1.0" {
		t.Fatalf("after the reverse: %q, %s", got, sb.fs().PkgState("trail-old"))
	}
}

// A package trail installed and then makes absent goes as the rollback of
// its install would, with the dependency it brought: the host is as a
// fresh apply of the absent step leaves it, and stays so when the step
// goes.
func TestAbsentPackageTrailInstalled(t *testing.T) {
	t.Parallel()
	sb := newDebSandbox(t)
	sb.fs().AptRepo(sbx.Deb{Name: "trail-a", Version: "1.0", Depends: "trail-c"}, sbx.Deb{Name: "trail-c", Version: "1.0"})
	pristine := sb.fs().Packages()
	sb.apply("PKG trail-a", "c1")
	if sb.fs().PkgState("trail-c") != "installed 1.0" {
		t.Fatal("trail-a came without its dependency")
	}
	g := sb.apply("PKG trail-a absent=true", "c2")
	if g.Counts.Removed != 1 || g.Counts.Added != 1 {
		t.Fatalf("counts = %+v", g.Counts)
	}
	if got := sb.fs().Packages(); got != pristine {
		t.Fatalf("packages after absent:\n%s\nwant:\n%s", got, pristine)
	}
	sb.apply("", "c3")
	if got := sb.fs().Packages(); got != pristine {
		t.Fatalf("packages after the step went:\n%s\nwant:\n%s", got, pristine)
	}
}
