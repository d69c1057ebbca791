package packages_test

import (
	"fmt"
	"strings"
	"testing"

	"trail/apply/internal/sandbox"
	"trail/apply/internal/sandbox/engine"
	"trail/stepfmt"
)

// freshApply is the machine a fresh apply of text leaves on upgradedRepo:
// what any path to text must leave too.
func freshApply(t *testing.T, auto bool, text string) (string, map[string]string) {
	sb := upgradedRepo(t, auto, false)
	sb.Apply(text, "fresh")
	return sb.Packages(), sb.Accounts()
}

// upgradedDeclared applies first, then trail-a and trail-d's block, to a
// fresh upgradedRepo, then middle when it is not "", and checks that
// each step back leaves the machine as a fresh apply of its list would:
// middle, then nothing (the machine from before trail), with no note.
func upgradedDeclared(t *testing.T, first, middle string) {
	upgradedDeclaredAs(t, first, "PKG trail-d", middle)
}

// upgradedDeclaredAs is upgradedDeclared with block as trail-d's block.
func upgradedDeclaredAs(t *testing.T, first, block, middle string) {
	for name, auto := range map[string]bool{"auto": true, "manual": false} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sb := upgradedRepo(t, auto, false)
			pkgs, accts := sb.Packages(), sb.Accounts()
			sb.Apply(first, "c1")
			sb.Apply("PKG trail-a\n"+block, "c2")
			if got := sb.PkgState("trail-d"); got != "installed 2.0" || sb.IsAuto("trail-d") {
				t.Fatalf("trail-d is %s (auto %v), want 2.0 for trail-a, manual for its block", got, sb.IsAuto("trail-d"))
			}
			o := sb.Origin(stepfmt.KindPackage, "trail-d")
			if middle != "" {
				if g := sb.Apply(middle, "c3"); len(g.Kept) != 0 {
					t.Fatalf("kept %q", g.Kept)
				}
				wantPkgs, wantAccts := freshApply(t, auto, middle)
				if after := sb.Packages(); after != wantPkgs {
					t.Errorf("packages after going to %q:\n%s\nwant, as a fresh apply of it:\n%s\n(trail-d's origin %q)", middle, after, wantPkgs, o)
				}
				sb.SameAccounts(wantAccts, fmt.Sprintf("after going to %q, as a fresh apply of it", middle))
			}
			if g := sb.Apply("", "c0"); len(g.Kept) != 0 {
				t.Fatalf("kept %q", g.Kept)
			}
			if after := sb.Packages(); after != pkgs {
				t.Errorf("packages after the rollback:\n%s\nwant:\n%s\n(trail-d's origin %q)", after, pkgs, o)
			}
			sb.SameAccounts(accts, fmt.Sprintf("after the rollback (trail-d's origin %q)", o))
		})
	}
}

// trail-d, there before trail at 1.0, is upgraded to 2.0 by trail-a's
// install (2.0's postinst makes the user trail-d), and a later commit
// declares it with a block of its own, whose record finds it at 2.0.
// Rolling back to before trail puts 1.0 back with its mark and takes the
// user, whether both go at once, the block first (trail-d stays at 2.0
// for trail-a, with its old mark) or trail-a first (trail-d, declared,
// goes back to 1.0, as a fresh apply of the block alone leaves it).
func TestUpgradedDepDeclaredLater(t *testing.T) {
	t.Parallel()
	for name, middle := range map[string]string{"together": "", "block first": "PKG trail-a", "trail-a first": "PKG trail-d"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			upgradedDeclared(t, "PKG trail-a", middle)
		})
	}
}

// trail-d, there before trail at 1.0, is declared by a block first, and
// trail-a's install, in a later commit, upgrades it to 2.0. Removing
// trail-a puts 1.0 back, as a fresh apply of the block alone leaves it;
// removing the block while trail-a stays leaves it at 2.0 with its old
// mark; rolling back to before trail gives back 1.0 with its mark.
func TestUpgradedDepDeclaredBefore(t *testing.T) {
	t.Parallel()
	for name, middle := range map[string]string{"together": "", "block first": "PKG trail-a", "trail-a first": "PKG trail-d"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			upgradedDeclared(t, "PKG trail-d", middle)
		})
	}
}

// trail-d, upgraded by trail-a's install and declared since, cannot go
// back to 1.0 when the rollback to before trail comes: apt no longer has
// 1.0, or trail-x, installed by hand since, needs 2.0. It stays at 2.0,
// with its mark and the user 2.0's postinst made, and the plan says why.
func TestUpgradedDepDeclaredLaterLeft(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]string{
		"old version gone": "package trail-d left at 2.0: its version 1.0 cannot be installed again",
		"needed since":     "package trail-d left at 2.0: putting 1.0 back would also remove trail-x, which trail did not install",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sb := upgradedRepo(t, true, name == "old version gone")
			sb.Apply("PKG trail-a", "c1")
			sb.Apply("PKG trail-a\nPKG trail-d", "c2")
			if name == "needed since" {
				sb.DpkgInstall(sandbox.BuildDeb(t, t.TempDir(), sandbox.Deb{Name: "trail-x", Version: "1.0", Depends: "trail-d (>= 2.0)"}))
			}
			g := sb.Apply("", "c0")
			if got := sb.PkgState("trail-d"); got != "installed 2.0" || !sb.IsAuto("trail-d") || sb.Entry("/etc/passwd", "trail-d") == "" {
				t.Errorf("trail-d is %s (auto %v), its user %q, want left at 2.0, auto, with it", got, sb.IsAuto("trail-d"), sb.Entry("/etc/passwd", "trail-d"))
			}
			if !strings.Contains(strings.Join(g.Kept, "\n"), want) {
				t.Errorf("kept %q, want %q", g.Kept, want)
			}
			if sb.PkgState("trail-a") != "absent" {
				t.Errorf("trail-a is %s, want purged", sb.PkgState("trail-a"))
			}
			if name == "needed since" && sb.PkgState("trail-x") != "installed 1.0" {
				t.Errorf("trail-x is %s, want kept", sb.PkgState("trail-x"))
			}
		})
	}
}

// trail-d's block pins 2.0, the version trail-a's install upgraded it to:
// removing trail-a leaves it at 2.0, as a fresh apply of the block alone
// does, and rolling back to before trail puts 1.0 back with its mark.
func TestUpgradedDepPinnedStays(t *testing.T) {
	t.Parallel()
	upgradedDeclaredAs(t, "PKG trail-a", "PKG trail-d version=2.0", "PKG trail-d version=2.0")
}

// trail-d, upgraded to 2.0 by trail-a's install, is downgraded by the
// admin below the version it had before trail (0.9, with dpkg, which
// leaves trail-a's dependency broken), then declared by a block: the
// rollback to before trail leaves it where the block found it, and does
// not upgrade it to 1.0.
func TestUpgradedDepDowngradedByHandThenDeclared(t *testing.T) {
	t.Parallel()
	sb := upgradedRepo(t, false, false)
	sb.Apply("PKG trail-a", "c1")
	sb.DpkgInstall(sandbox.BuildDeb(t, t.TempDir(), sandbox.Deb{Name: "trail-d", Version: "0.9"}))
	sb.Apply("PKG trail-a\nPKG trail-d", "c2")
	o := sb.Origin(stepfmt.KindPackage, "trail-d")
	sb.Apply("", "c0")
	if got := sb.PkgState("trail-d"); got != "installed 0.9" {
		t.Errorf("trail-d is %s, want left at 0.9, where the admin put it (its origin %q)", got, o)
	}
}

// trail-d, upgraded by trail-a's install and declared since, would go
// back to 1.0 with the rollback to before trail, but trail-y, installed
// by hand since, needs trail-a, which is kept for it: 1.0 would remove
// trail-a, and trail-y with it, so trail-d stays at 2.0, with its mark
// from before trail, and the plan says so.
func TestUpgradedDepDeclaredKeptInstall(t *testing.T) {
	t.Parallel()
	sb := upgradedRepo(t, true, false)
	sb.Apply("PKG trail-a", "c1")
	sb.Apply("PKG trail-a\nPKG trail-d", "c2")
	sb.DpkgInstall(sandbox.BuildDeb(t, t.TempDir(), sandbox.Deb{Name: "trail-y", Version: "1.0", Depends: "trail-a"}))
	g := sb.Apply("", "c0")
	if sb.PkgState("trail-y") != "installed 1.0" || sb.PkgState("trail-a") != "installed 1.0" {
		t.Errorf("trail-y is %s, trail-a %s, want both kept", sb.PkgState("trail-y"), sb.PkgState("trail-a"))
	}
	if got := sb.PkgState("trail-d"); got != "installed 2.0" || !sb.IsAuto("trail-d") {
		t.Errorf("trail-d is %s (auto %v), want left at 2.0, auto", got, sb.IsAuto("trail-d"))
	}
	kept := strings.Join(g.Kept, "\n")
	for _, want := range []string{"package trail-a kept: removing it would also remove trail-y", "package trail-d left at 2.0: putting 1.0 back would also remove trail-y, trail-a"} {
		if !strings.Contains(kept, want) {
			t.Errorf("kept %q, want %q", g.Kept, want)
		}
	}
}

// trail-d, upgraded to 2.0 by trail-a's install, is upgraded by the
// admin to 3.0, then declared by a block: the rollback to before trail
// leaves it at 3.0, where the block found it, whether trail-a goes with
// the block or first (whose reverse says it leaves it), as it leaves one
// the admin downgraded; it does not put back 1.0 over the admin's 3.0.
func TestUpgradedDepUpgradedByHandThenDeclared(t *testing.T) {
	t.Parallel()
	for name, middle := range map[string]string{"together": "", "trail-a first": "PKG trail-d"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sb := upgradedRepo(t, false, false)
			sb.Apply("PKG trail-a", "c1")
			sb.DpkgInstall(sandbox.BuildDeb(t, t.TempDir(), sandbox.Deb{Name: "trail-d", Version: "3.0"}))
			sb.Apply("PKG trail-a\nPKG trail-d", "c2")
			o := sb.Origin(stepfmt.KindPackage, "trail-d")
			if middle != "" {
				g := sb.Apply(middle, "c3")
				if want := "package trail-d left at 3.0"; !strings.Contains(strings.Join(g.Kept, "\n"), want) {
					t.Errorf("kept %q, want %q", g.Kept, want)
				}
			}
			sb.Apply("", "c0")
			if got := sb.PkgState("trail-d"); got != "installed 3.0" || sb.IsAuto("trail-d") {
				t.Errorf("trail-d is %s (auto %v), want left at 3.0, manual, where the admin put it (its origin %q)", got, sb.IsAuto("trail-d"), o)
			}
		})
	}
}

// trail-d, upgraded to 2.0 by trail-a's install, is pinned to 3.0 by its
// block, declared after trail-a or before it (then pinned in a later
// commit), once the repository has 3.0. Removing the block while trail-a
// stays puts back 2.0 with its mark from before trail, as a fresh apply
// of trail-a alone leaves it, and the rollback to before trail 1.0.
func TestUpgradedDepPinnedHigherGoes(t *testing.T) {
	t.Parallel()
	for name, steps := range map[string][]string{
		"declared later":  {"PKG trail-a", "PKG trail-a\nPKG trail-d version=3.0"},
		"declared before": {"PKG trail-d", "PKG trail-d\nPKG trail-a", "PKG trail-a\nPKG trail-d version=3.0"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sb := upgradedRepo(t, true, false)
			pkgs := sb.Packages()
			want, _ := freshApply(t, true, "PKG trail-a")
			for i, text := range steps {
				if i == len(steps)-1 {
					addTrailD3(t, sb)
				}
				sb.Apply(text, fmt.Sprintf("c%d", i+1))
			}
			if got := sb.PkgState("trail-d"); got != "installed 3.0" {
				t.Fatalf("trail-d is %s, want pinned at 3.0", got)
			}
			o := sb.Origin(stepfmt.KindPackage, "trail-d")
			if g := sb.Apply("PKG trail-a", "c8"); len(g.Kept) != 0 {
				t.Errorf("kept %q", g.Kept)
			}
			if got := sb.Packages(); got != want {
				t.Errorf("packages after the block goes:\n%s\nwant, as a fresh apply of trail-a:\n%s\n(trail-d's origin %q)", got, want, o)
			}
			sb.Apply("", "c0")
			if got := sb.Packages(); got != pkgs {
				t.Errorf("packages after the rollback:\n%s\nwant:\n%s", got, pkgs)
			}
		})
	}
}

// addTrailD3 adds trail-d 3.0 to upgradedRepo's repository.
func addTrailD3(t *testing.T, sb *engine.Sandbox) {
	sb.AptRepo(sandbox.Deb{Name: "trail-a", Version: "1.0", Depends: "trail-d (>= 2.0)"}, sandbox.Deb{Name: "trail-d", Version: "1.0"},
		sandbox.Deb{Name: "trail-d", Version: "2.0", Scripts: sandbox.AccountScript("trail-d", 990, "")},
		sandbox.Deb{Name: "trail-d", Version: "3.0", Scripts: sandbox.AccountScript("trail-d", 990, "")})
}

// trail-d's block, declared before trail-a or with it, is pinned to 2.0,
// the version trail-a's install upgraded it to, in the commit that
// removes trail-a or with trail-a's install (the block is then unchanged
// as trail-a goes): trail-d stays at 2.0, and the rollback to before
// trail puts 1.0 back and takes the account 2.0's scripts made, which
// trail-a's going record handed to the block's.
func TestUpgradedDepPinnedAsInstallGoes(t *testing.T) {
	t.Parallel()
	for name, c := range map[string][2]string{
		"declared before":                  {"PKG trail-d", "PKG trail-d"},
		"declared with it":                 {"PKG trail-a\nPKG trail-d", "PKG trail-d"},
		"declared before, pinned with it":  {"PKG trail-d", "PKG trail-d version=2.0"},
		"declared with it, pinned with it": {"PKG trail-a\nPKG trail-d", "PKG trail-d version=2.0"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			upgradedDeclaredAs(t, c[0], c[1], "PKG trail-d version=2.0")
		})
	}
}

// trail-d's block, declared before trail-a and trail-b, whose installs
// both need trail-d 2.0, is pinned to 2.0 as trail-a goes; each later
// step, the block going while trail-b stays, then trail-b, leaves the
// machine as a fresh apply of its list: the account 2.0 made stays while
// trail-d stays at 2.0, and goes with 1.0.
func TestUpgradedDepPinnedAsOneInstallGoes(t *testing.T) {
	t.Parallel()
	sb := upgradedRepo(t, true, false)
	for i, text := range []string{"PKG trail-d", "PKG trail-d\nPKG trail-a\nPKG trail-b", "PKG trail-d version=2.0\nPKG trail-b", "PKG trail-b", ""} {
		if g := sb.Apply(text, fmt.Sprintf("c%d", i+1)); len(g.Kept) != 0 {
			t.Fatalf("%q: kept %q", text, g.Kept)
		}
		wantPkgs, wantAccts := freshApply(t, true, text)
		if got := sb.Packages(); got != wantPkgs {
			t.Errorf("packages after %q:\n%s\nwant, as a fresh apply of it:\n%s\n(trail-d's origin %q)", text, got, wantPkgs, sb.Origin(stepfmt.KindPackage, "trail-d"))
		}
		sb.SameAccounts(wantAccts, fmt.Sprintf("after %q, as a fresh apply of it", text))
	}
}
