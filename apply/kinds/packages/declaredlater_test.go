package packages_test

import (
	"fmt"
	"strings"
	"testing"

	"trail/apply/internal/sandbox"
	"trail/apply/internal/sandbox/engine"
	"trail/stepfmt"
)

// declaredRepo is a root whose repository has trail-a, needing trail-d,
// which needs trail-l; trail-d's postinst makes the user trail-d and
// enables trail-d.service.
func declaredRepo(t *testing.T) *engine.Sandbox {
	sb := engine.NewDeb(t)
	sb.WithShadow(true)
	sb.WithShell("/bin/mkdir", "/bin/ln")
	sb.AptRepo(sandbox.Deb{Name: "trail-a", Version: "1.0", Depends: "trail-d"},
		sandbox.Deb{Name: "trail-l", Version: "1.0"},
		sandbox.Deb{Name: "trail-d", Version: "1.0", Depends: "trail-l", Files: map[string]string{"/lib/systemd/system/trail-d.service": "[Service]\n"},
			Scripts: sandbox.AccountScript("trail-d", 990, "trail-d.service")})
	return sb
}

// trail-d comes with trail-a's install, with trail-l, and a later commit
// declares trail-d with
// a step of its own. trail-d was absent before trail: rolling back to
// before trail purges it with its user, link and trail-l, whether both
// steps go at once, trail-d's step first (trail-d goes back to
// automatically installed, kept for trail-a) or trail-a's first
// (trail-d stays, as declared, with its user and link, and trail-l for
// it, which the plan says).
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
			sb := declaredRepo(t)
			pkgs, accts, links := sb.Packages(), sb.Accounts(), enablementLinks(t, sb)
			sb.Apply("PKG trail-a", "c1")
			sb.Apply("PKG trail-a\nPKG trail-d", "c2")
			if sb.IsAuto("trail-d") || sb.Entry("/etc/passwd", "trail-d") == "" || !sb.Exists(link) {
				t.Fatalf("trail-d auto %v, or its postinst made no user or link", sb.IsAuto("trail-d"))
			}
			o := sb.Origin(stepfmt.KindPackage, "trail-d")
			if middle != "" {
				want := ""
				if middle == "PKG trail-d" {
					want = "package trail-l kept: trail installed it for trail-a, but trail-d still needs it"
				}
				if g := sb.Apply(middle, "c3"); strings.Join(g.Kept, "\n") != want {
					t.Fatalf("kept %q, want %q", g.Kept, want)
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
			if got := sb.PkgState("trail-d") + ", " + sb.PkgState("trail-l"); got != "absent, absent" {
				t.Errorf("trail-d, trail-l are %s, want absent, absent", got)
			}
		})
	}
}

// trail-d, brought by trail-a and declared since, is needed by trail-x,
// installed by hand after: the rollback keeps it, marked automatically
// installed as trail-a's install left it, and says why.
func TestDeclaredDepKeptForWhatNeedsIt(t *testing.T) {
	t.Parallel()
	sb := declaredRepo(t)
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
