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
