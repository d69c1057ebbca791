package packages_test

import (
	"fmt"
	"strings"
	"testing"

	"trail/apply/internal/sandbox"
	"trail/stepfmt"
)

// trail-d comes with trail-a's install (its postinst makes the user
// trail-d and links its unit), and a later commit declares trail-d with
// a step of its own. trail-d was absent before trail: rolling back to
// before trail purges it with its user and link, whether both steps go
// at once, trail-d's step first (trail-d goes back to automatically
// installed, kept for trail-a) or trail-a's first (trail-d stays, as
// declared, with its user and link).
func TestDeclaredDepGoesOnRollback(t *testing.T) {
	t.Parallel()
	const link = "/etc/systemd/system/multi-user.target.wants/trail-d.service"
	for name, middle := range map[string]string{
		"together":      "",
		"trail-d first": "PKG trail-a",
		"trail-a first": "PKG trail-d",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sb := sharedMarksRepo(t)
			pkgs, accts, links := sb.Packages(), sb.Accounts(), enablementLinks(t, sb)
			sb.Apply("PKG trail-a", "c1")
			sb.Apply("PKG trail-a\nPKG trail-d", "c2")
			if sb.IsAuto("trail-d") || sb.Entry("/etc/passwd", "trail-d") == "" || !sb.Exists(link) {
				t.Fatalf("trail-d auto %v, or its postinst made no user or link", sb.IsAuto("trail-d"))
			}
			o := sb.Origin(stepfmt.KindPackage, "trail-d")
			if middle != "" {
				if g := sb.Apply(middle, "c3"); len(g.Kept) != 0 {
					t.Fatalf("kept %q", g.Kept)
				}
				if got := sb.PkgState("trail-d"); got != "installed 1.0" {
					t.Fatalf("trail-d is %q after going to %q, want kept", got, middle)
				}
				if auto := sb.IsAuto("trail-d"); auto != (middle == "PKG trail-a") {
					t.Errorf("trail-d auto %v after going to %q", auto, middle)
				}
				if sb.Entry("/etc/passwd", "trail-d") == "" || !sb.Exists(link) {
					t.Errorf("trail-d stays, but its user or link went")
				}
			}
			if g := sb.Apply("", "c0"); len(g.Kept) != 0 {
				t.Fatalf("kept %q", g.Kept)
			}
			if after := sb.Packages(); after != pkgs {
				t.Errorf("packages after the rollback:\n%s\nwant:\n%s\n(trail-d's origin %q)", after, pkgs, o)
			}
			sb.SameAccounts(accts, fmt.Sprintf("after the rollback (trail-d's origin %q)", o))
			if after := enablementLinks(t, sb); after != links {
				t.Errorf("links after the rollback:\n%s\nwant:\n%s", after, links)
			}
			if strings.Contains(sb.Packages(), "trail-d") {
				t.Errorf("trail-d left: %s", sb.PkgState("trail-d"))
			}
		})
	}
}

// trail-d, brought by trail-a and declared since, is needed by trail-x,
// installed by hand after: the rollback keeps it, marked automatically
// installed as trail-a's install left it, and says why.
func TestDeclaredDepKeptForWhatNeedsIt(t *testing.T) {
	t.Parallel()
	sb := sharedMarksRepo(t)
	sb.Apply("PKG trail-a", "c1")
	sb.Apply("PKG trail-a\nPKG trail-d", "c2")
	sb.DpkgInstall(sandbox.BuildDeb(t, t.TempDir(), sandbox.Deb{Name: "trail-x", Version: "1.0", Depends: "trail-d"}))
	g := sb.Apply("", "c0")
	if got := sb.PkgState("trail-d"); got != "installed 1.0" || !sb.IsAuto("trail-d") {
		t.Fatalf("trail-d is %q, auto %v, want kept for trail-x, marked auto", got, sb.IsAuto("trail-d"))
	}
	if !strings.Contains(strings.Join(g.Kept, "\n"), "package trail-d kept: removing it would also remove trail-x") {
		t.Errorf("kept %q, want trail-d kept for trail-x", g.Kept)
	}
	if sb.PkgState("trail-a") != "absent" {
		t.Errorf("trail-a is %s, want purged", sb.PkgState("trail-a"))
	}
}
