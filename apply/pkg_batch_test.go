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

// A dependency trail brought goes in the rollback though a package that
// stays recommends or suggests it: that package did without it before
// trail (apt's autoremove would keep it, as openssh-client's libfido2-1,
// which systemd suggests, or ucf's sensible-utils, which util-linux
// recommends, on a Debian installed without recommends).
func TestPackageReverseBroughtRecommended(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	sb.fs().DebRoot()
	sb.opts.AllowMassRemoval = true
	sb.open()
	sb.fs().AptRepo(sbx.Deb{Name: "trail-a", Version: "1.0", Depends: "trail-b, trail-s"},
		sbx.Deb{Name: "trail-b", Version: "1.0"}, sbx.Deb{Name: "trail-s", Version: "1.0"})
	sb.fs().DpkgInstall(sbx.BuildDeb(t, t.TempDir(), sbx.Deb{Name: "trail-r", Version: "1.0", Recommends: "trail-b", Suggests: "trail-s"}))
	before := sb.fs().Packages()
	sb.apply("PKG trail-a", "c1")
	g := sb.apply("", "c0")
	if after := sb.fs().Packages(); after != before {
		t.Fatalf("packages after the reverse:\n%s\nwant:\n%s", after, before)
	}
	if len(g.Kept) != 0 {
		t.Fatalf("kept %q", g.Kept)
	}
}
