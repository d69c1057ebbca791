package packages_test

import (
	"strings"
	"testing"

	"trail/apply/internal/sandbox"
	"trail/apply/internal/sandbox/engine"
	"trail/apply/kinds/packages"
	"trail/stepfmt"
)

// upgradedRepo is a root with trail-d 1.0 installed before trail (marked
// automatically installed when auto), whose repository has trail-a and
// trail-b, needing trail-d 2.0, whose postinst makes the user trail-d,
// and trail-d 1.0 unless gone.
func upgradedRepo(t *testing.T, auto, gone bool) *engine.Sandbox {
	sb := engine.NewDeb(t)
	sb.WithShadow(true)
	sb.WithShell()
	d1 := sandbox.Deb{Name: "trail-d", Version: "1.0"}
	sb.DpkgInstall(sandbox.BuildDeb(t, t.TempDir(), d1))
	if auto {
		sb.AptMark("auto", "trail-d")
	}
	debs := []sandbox.Deb{{Name: "trail-a", Version: "1.0", Depends: "trail-d (>= 2.0)"},
		{Name: "trail-b", Version: "1.0", Depends: "trail-d (>= 2.0)"},
		{Name: "trail-d", Version: "2.0", Scripts: sandbox.AccountScript("trail-d", 990, "")}}
	if !gone {
		debs = append(debs, d1)
	}
	sb.AptRepo(debs...)
	return sb
}

// trail-d 1.0, installed before trail, is upgraded to 2.0 by trail-a's
// install, which needs it: rolling trail-a back puts 1.0 back with its
// mark, and takes the user 2.0's postinst made.
func TestUpgradedDepGoesBack(t *testing.T) {
	t.Parallel()
	for name, auto := range map[string]bool{"auto": true, "manual": false} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sb := upgradedRepo(t, auto, false)
			pkgs, accts := sb.Packages(), sb.Accounts()
			sb.Apply("PKG trail-a", "c1")
			o := sb.Origin(stepfmt.KindPackage, "trail-a")
			if sb.PkgState("trail-d") != "installed 2.0" || sb.Entry("/etc/passwd", "trail-d") == "" {
				t.Fatalf("trail-d is %s, its user %q", sb.PkgState("trail-d"), sb.Entry("/etc/passwd", "trail-d"))
			}
			if g := sb.Apply("", "c0"); len(g.Kept) != 0 {
				t.Fatalf("kept %q", g.Kept)
			}
			if after := sb.Packages(); after != pkgs {
				t.Errorf("packages after the rollback:\n%s\nwant:\n%s\n(trail-a's origin %q)", after, pkgs, o)
			}
			if got := sb.IsAuto("trail-d"); got != auto {
				t.Errorf("trail-d auto %v, want %v", got, auto)
			}
			sb.SameAccounts(accts, "after the rollback (trail-a's origin "+o+")")
		})
	}
}

// trail-d's old version is no longer in the repository: the rollback
// leaves it at 2.0, with the user its scripts made, and says so.
func TestUpgradedDepOldVersionGone(t *testing.T) {
	t.Parallel()
	sb := upgradedRepo(t, false, true)
	sb.Apply("PKG trail-a", "c1")
	g := sb.Apply("", "c0")
	if got := sb.PkgState("trail-d"); got != "installed 2.0" || sb.Entry("/etc/passwd", "trail-d") == "" {
		t.Fatalf("trail-d is %s, its user %q, want left at 2.0 with it", got, sb.Entry("/etc/passwd", "trail-d"))
	}
	if want := "package trail-d left at 2.0: its version 1.0 cannot be installed again"; !strings.Contains(strings.Join(g.Kept, "\n"), want) {
		t.Errorf("kept %q, want %q", g.Kept, want)
	}
	if sb.PkgState("trail-a") != "absent" {
		t.Errorf("trail-a is %s, want purged", sb.PkgState("trail-a"))
	}
}

// trail-b, installed in a later apply, needs trail-d 2.0 too: removing
// one of trail-a and trail-b leaves trail-d at 2.0 and says why; removing
// the other then puts 1.0 back, as trail-a's install found it.
func TestUpgradedDepKeptForWhatStays(t *testing.T) {
	t.Parallel()
	for keep, other := range map[string]string{"trail-b": "trail-a", "trail-a": "trail-b"} {
		t.Run(keep+" stays", func(t *testing.T) {
			t.Parallel()
			sb := upgradedRepo(t, false, false)
			pkgs, accts := sb.Packages(), sb.Accounts()
			sb.Apply("PKG trail-a", "c1")
			sb.Apply("PKG trail-a\nPKG trail-b", "c2")
			g := sb.Apply("PKG "+keep, "c3")
			if got := sb.PkgState("trail-d") + ", " + sb.PkgState(other); got != "installed 2.0, absent" {
				t.Fatalf("trail-d, %s are %s, want 2.0 for %s, absent", other, got, keep)
			}
			if want := "package trail-d left at 2.0: putting 1.0 back would also remove " + keep; !strings.Contains(strings.Join(g.Kept, "\n"), want) {
				t.Errorf("kept %q, want %q", g.Kept, want)
			}
			o := sb.Origin(stepfmt.KindPackage, keep)
			if g := sb.Apply("", "c0"); len(g.Kept) != 0 {
				t.Fatalf("kept %q", g.Kept)
			}
			if after := sb.Packages(); after != pkgs {
				t.Errorf("packages after the rollback:\n%s\nwant:\n%s\n(%s's origin %q)", after, pkgs, keep, o)
			}
			sb.SameAccounts(accts, "after the rollback ("+keep+"'s origin "+o+")")
		})
	}
}

// trail-t, installed before trail at 1.0, is pinned to 2.0, which needs
// trail-d 2.0: rolling the pin back puts both back at 1.0, unless
// trail-x, installed by hand since, needs trail-d 2.0: trail-d then
// stays, and the plan says why.
func TestPinRollbackPutsUpgradedDepBack(t *testing.T) {
	t.Parallel()
	for name, needed := range map[string]bool{"alone": false, "needed since": true} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sb := upgradedRepo(t, false, false)
			t1 := sandbox.Deb{Name: "trail-t", Version: "1.0"}
			sb.DpkgInstall(sandbox.BuildDeb(t, t.TempDir(), t1))
			sb.AptRepo(t1, sandbox.Deb{Name: "trail-t", Version: "2.0", Depends: "trail-d (>= 2.0)"},
				sandbox.Deb{Name: "trail-d", Version: "1.0"}, sandbox.Deb{Name: "trail-d", Version: "2.0"})
			pkgs := sb.Packages()
			sb.Apply("PKG trail-t version=2.0", "c1")
			if got := sb.PkgState("trail-d"); got != "installed 2.0" {
				t.Fatalf("trail-d is %s, want upgraded with trail-t 2.0", got)
			}
			if needed {
				sb.DpkgInstall(sandbox.BuildDeb(t, t.TempDir(), sandbox.Deb{Name: "trail-x", Version: "1.0", Depends: "trail-d (>= 2.0)"}))
			}
			g := sb.Apply("", "c0")
			if !needed {
				if after := sb.Packages(); after != pkgs || len(g.Kept) != 0 {
					t.Errorf("packages after the rollback:\n%s\nwant:\n%s\n(kept %q)", after, pkgs, g.Kept)
				}
				return
			}
			if got := sb.PkgState("trail-x") + ", " + sb.PkgState("trail-d") + ", " + sb.PkgState("trail-t"); got != "installed 1.0, installed 2.0, installed 1.0" {
				t.Errorf("trail-x, trail-d, trail-t are %s, want trail-x kept, trail-d at 2.0 for it, trail-t at 1.0", got)
			}
			if want := "package trail-d left at 2.0: putting 1.0 back would also remove trail-x"; !strings.Contains(strings.Join(g.Kept, "\n"), want) {
				t.Errorf("kept %q, want %q", g.Kept, want)
			}
		})
	}
}

// trail-d, upgraded by trail-a's install, is taken over by the admin since:
// marked manually installed (it was a dependency before), or upgraded
// further by hand. Rolling trail-a back leaves it as the admin has it,
// and says so.
func TestUpgradedDepTakenOverSince(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]string{"marked manual": "installed 2.0", "upgraded further": "installed 3.0"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sb := upgradedRepo(t, true, false)
			sb.Apply("PKG trail-a", "c1")
			if name == "upgraded further" {
				sb.DpkgInstall(sandbox.BuildDeb(t, t.TempDir(), sandbox.Deb{Name: "trail-d", Version: "3.0"}))
			}
			sb.AptMark("manual", "trail-d")
			g := sb.Apply("", "c0")
			if got := sb.PkgState("trail-d"); got != want || sb.IsAuto("trail-d") {
				t.Fatalf("trail-d is %s (auto %v), want %s, manual, as the admin left it", got, sb.IsAuto("trail-d"), want)
			}
			if note := "package trail-d left at " + want[len("installed "):]; !strings.Contains(strings.Join(g.Kept, "\n"), note) {
				t.Errorf("kept %q, want %q", g.Kept, note)
			}
			if sb.PkgState("trail-a") != "absent" {
				t.Errorf("trail-a is %s, want purged", sb.PkgState("trail-a"))
			}
		})
	}
}

// The apt call of a rollback fails midway: trail-d 1.0's preinst refuses
// to put it back after trail-a has gone. The rollback is undone whole:
// trail-a, trail-d 2.0, its mark and the user its postinst made are as
// the install left them.
func TestUpgradedDepRollbackFailsMidway(t *testing.T) {
	t.Parallel()
	sb := engine.NewDeb(t)
	sb.WithShadow(true)
	sb.WithShell()
	d1 := sandbox.Deb{Name: "trail-d", Version: "1.0", Scripts: map[string]string{"preinst": "#!/bin/sh\nif [ -e /refuse ]; then echo refused >&2; exit 1; fi\n"}}
	sb.DpkgInstall(sandbox.BuildDeb(t, t.TempDir(), d1))
	sb.AptMark("auto", "trail-d")
	sb.AptRepo(sandbox.Deb{Name: "trail-a", Version: "1.0", Depends: "trail-d (>= 2.0)"},
		sandbox.Deb{Name: "trail-d", Version: "2.0", Scripts: sandbox.AccountScript("trail-d", 990, "")}, d1)
	sb.Apply("PKG trail-a", "c1")
	pkgs, accts := sb.Packages(), sb.Accounts()
	sb.Write("/refuse", "", 0o644)
	if _, err := sb.ApplyErr("", "c0"); err == nil {
		t.Fatal("the rollback succeeded, want trail-d 1.0's preinst to fail it")
	}
	if after := sb.Packages(); after != pkgs {
		t.Errorf("packages after the failed rollback:\n%s\nwant:\n%s", after, pkgs)
	}
	sb.SameAccounts(accts, "after the failed rollback")
}

// trail-d 1.9, there before trail, goes to 1.10 with trail-a and to 1.11
// with trail-b, installed later: once both have gone, one after the
// other, trail-d is at 1.9 again, the oldest version by Debian's order
// (1.10 sorts before 1.9 as text).
func TestUpgradedDepOldestByVersionOrder(t *testing.T) {
	t.Parallel()
	sb := engine.NewDeb(t)
	sb.WithShadow(true)
	sb.WithShell()
	d := func(v string) sandbox.Deb { return sandbox.Deb{Name: "trail-d", Version: v} }
	sb.DpkgInstall(sandbox.BuildDeb(t, t.TempDir(), d("1.9")))
	pkgs := sb.Packages()
	a := sandbox.Deb{Name: "trail-a", Version: "1.0", Depends: "trail-d (>= 1.10)"}
	sb.AptRepo(a, d("1.9"), d("1.10"))
	sb.Apply("PKG trail-a", "c1")
	sb.AptRepo(a, sandbox.Deb{Name: "trail-b", Version: "1.0", Depends: "trail-d (>= 1.11)"}, d("1.9"), d("1.10"), d("1.11"))
	sb.Apply("PKG trail-a\nPKG trail-b", "c2")
	if got := sb.PkgState("trail-d"); got != "installed 1.11" {
		t.Fatalf("trail-d is %s, want 1.11", got)
	}
	sb.Apply("PKG trail-b", "c3")
	o := sb.Origin(stepfmt.KindPackage, "trail-b")
	if g := sb.Apply("", "c0"); len(g.Kept) != 0 {
		t.Fatalf("kept %q", g.Kept)
	}
	if after := sb.Packages(); after != pkgs {
		t.Errorf("packages after the rollback:\n%s\nwant:\n%s\n(trail-b's origin %q)", after, pkgs, o)
	}
}

// The capture of an install names, before apt runs, what it will
// upgrade with the version it goes to and the mark it has, alone or in
// a group, so that the rollback of an apply killed while apt runs
// tells a package the admin has taken over since as after the install.
func TestUpgradesPredictionCarriesMark(t *testing.T) {
	t.Parallel()
	for name, auto := range map[string]bool{"auto": true, "manual": false} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sb := upgradedRepo(t, auto, false)
			x := sb.Exec()
			a := &stepfmt.Step{Kind: stepfmt.KindPackage, Target: "trail-a"}
			b := &stepfmt.Step{Kind: stepfmt.KindPackage, Target: "trail-b"}
			want := "absent upgrades=trail-d=1.0>2.0@" + name
			img, err := packages.Package{}.Capture(x, a)
			if err != nil {
				t.Fatal(err)
			}
			if img.String() != want {
				t.Errorf("trail-a alone: %s, want %s", img, want)
			}
			imgs, err := packages.Package{}.CaptureGroup(x, []*stepfmt.Step{a, b})
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range []string{"trail-a", "trail-b"} {
				if imgs[i].String() != want {
					t.Errorf("%s in a group: %s, want %s", s, imgs[i], want)
				}
			}
		})
	}
}
