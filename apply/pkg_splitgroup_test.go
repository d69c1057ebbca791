package apply

import (
	"testing"

	sbx "trail/apply/internal/sandbox"
)

// A group of installs split over two batches by the batch size: a new
// dependency two steps share is installed by the first batch's call, so
// the second step's own call brings nothing. Removing the first step
// alone keeps it (the second needs it); removing the second must then
// take it too, for the rollback to give back the packages from before.
func TestPackageSharedDepAcrossBatches(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	sb.fs().DebRoot()
	sb.opts.AllowMassRemoval = true
	sb.opts.batchSize = 2
	sb.open()
	sb.fs().AptRepo(sbx.Deb{Name: "trail-a", Version: "1.0", Depends: "trail-d"}, sbx.Deb{Name: "trail-b", Version: "1.0", Depends: "trail-d"},
		sbx.Deb{Name: "trail-h", Version: "1.0"}, sbx.Deb{Name: "trail-d", Version: "1.0"})
	before := sb.fs().Packages()
	sb.apply("PKG trail-a\nPKG trail-h\nPKG trail-b", "c1")
	g := sb.apply("PKG trail-b", "c2")
	if got := sb.fs().PkgState("trail-d"); got != "installed 1.0" {
		t.Fatalf("trail-d is %q, want kept for trail-b (kept %q)", got, g.Kept)
	}
	sb.apply("", "c0")
	if after := sb.fs().Packages(); after != before {
		t.Fatalf("packages after the rollback:\n%s\nwant:\n%s", after, before)
	}
}

// The same over two batches, trail-d's postinst making a system user and
// enabling its unit: they are trail-d's, named by trail-b's record too,
// so that removing trail-a keeps them with trail-d and removing trail-b
// takes them with it, giving back the accounts and links from before.
func TestPackageSharedDepMarksAcrossBatches(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	sb.fs().DebRoot()
	sb.fs().WithShadow(true)
	sb.fs().WithShell("/bin/mkdir", "/bin/ln")
	sb.opts.AllowMassRemoval = true
	sb.opts.batchSize = 2
	sb.open()
	sb.fs().AptRepo(sbx.Deb{Name: "trail-a", Version: "1.0", Depends: "trail-d"}, sbx.Deb{Name: "trail-b", Version: "1.0", Depends: "trail-d"},
		sbx.Deb{Name: "trail-h", Version: "1.0"}, sbx.Deb{Name: "trail-d", Version: "1.0",
			Files: map[string]string{"/lib/systemd/system/trail-d.service": "[Service]\n"}, Scripts: sbx.AccountScript("trail-d", 990, "trail-d.service")})
	const link = "/etc/systemd/system/multi-user.target.wants/trail-d.service"
	before, accts := sb.fs().Packages(), sb.fs().Accounts()
	sb.apply("PKG trail-a\nPKG trail-h\nPKG trail-b", "c1")
	g := sb.apply("PKG trail-b", "c2")
	if got := sb.fs().PkgState("trail-d"); got != "installed 1.0" {
		t.Fatalf("trail-d is %q, want kept for trail-b (kept %q)", got, g.Kept)
	}
	if sb.fs().Entry("/etc/passwd", "trail-d") == "" || !sb.fs().Exists(link) {
		t.Fatalf("trail-d stays, but its user or link went with trail-a:\n%s", sb.fs().Read("/etc/passwd"))
	}
	sb.apply("", "c0")
	if after := sb.fs().Packages(); after != before {
		t.Fatalf("packages after the rollback:\n%s\nwant:\n%s", after, before)
	}
	sb.fs().SameAccounts(accts, "after the rollback")
	if sb.fs().Exists(link) {
		t.Fatal("the rollback left trail-d's link")
	}
}
