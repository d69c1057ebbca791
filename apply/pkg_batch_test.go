package apply

import (
	"testing"

	sbx "trail/apply/internal/sandbox"
)

// Removals split over several groups by the batch size still follow the
// one decision taken before the first.
func TestPackageReverseSplitGroups(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	sb.fs().DebRoot()
	sb.opts.AllowMassRemoval = true
	sb.opts.batchSize = 1
	sb.open()
	sb.fs().AptRepo(sbx.Deb{Name: "trail-a", Version: "1.0", Depends: "trail-c"}, sbx.Deb{Name: "trail-b", Version: "1.0", Depends: "trail-a, trail-c"}, sbx.Deb{Name: "trail-c", Version: "1.0", Depends: ""})
	before := sb.fs().Packages()
	sb.apply("PKG trail-a\nPKG trail-b", "c1")
	g := sb.apply("", "c0")
	if after := sb.fs().Packages(); after != before {
		t.Fatalf("packages after the reverse:\n%s\nwant:\n%s", after, before)
	}
	if len(g.Kept) != 0 {
		t.Fatalf("kept %q", g.Kept)
	}
}

// A package of the list that a dependency another package of the list
// brought needs goes with both, as openssh-client goes with
// openssh-server and the openssh-sftp-server it brought: the brought
// dependency is not a package that stays.
func TestPackageReverseWithBroughtNeeder(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	sb.fs().DebRoot()
	sb.opts.AllowMassRemoval = true
	sb.open()
	sb.fs().AptRepo(sbx.Deb{Name: "trail-server", Version: "1.0", Depends: "trail-client, trail-sftp"},
		sbx.Deb{Name: "trail-sftp", Version: "1.0", Depends: "trail-client"}, sbx.Deb{Name: "trail-client", Version: "1.0"})
	before := sb.fs().Packages()
	sb.apply("PKG trail-server\nPKG trail-client", "c1")
	if got := sb.fs().PkgState("trail-sftp"); got != "installed 1.0" {
		t.Fatalf("trail-sftp is %q, want installed as trail-server's dependency", got)
	}
	g := sb.apply("", "c0")
	if after := sb.fs().Packages(); after != before {
		t.Fatalf("packages after the reverse:\n%s\nwant:\n%s", after, before)
	}
	if len(g.Kept) != 0 {
		t.Fatalf("kept %q", g.Kept)
	}
}
