package apply

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	sbx "trail/apply/internal/sandbox"
	"trail/apply/kinds/packages"
)

// trail-d, there before trail at 1.0 and declared by a block, is
// upgraded to 2.0 (whose postinst makes the account trail-d) by trail-a's
// install; the apply that removes trail-a while the block pins trail-d at
// 2.0 (pinned by that apply, or with the install, the block then
// unchanged), so that the block's record takes the account from
// trail-a's, is killed
// with SIGKILL at every boundary in turn, including after apt-get
// removed trail-a and before the records were written. After recovery,
// at either generation, the rollback to before trail gives back the
// packages and the account files exactly.
func TestPackageHandoverCrash(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("re-executes the test binary at every crash point")
	}
	for name, lists := range map[string][2]string{
		"pinned as it goes":       {"PKG trail-d", "PKG trail-d\nPKG trail-a"},
		"pinned with the install": {"PKG trail-a\nPKG trail-d", "PKG trail-a\nPKG trail-d version=2.0"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			handoverCrash(t, lists[0], lists[1])
		})
	}
}

// handoverCrash applies a and b, then kills the apply of trail-d's block
// pinned at 2.0 alone at every boundary in turn (TestPackageHandoverCrash).
func handoverCrash(t *testing.T, a, b string) {
	sb := newDebSandbox(t)
	sb.fs().WithShadow(true)
	sb.fs().WithShell()
	d1 := sbx.Deb{Name: "trail-d", Version: "1.0"}
	sb.fs().DpkgInstall(sbx.BuildDeb(t, t.TempDir(), d1))
	sb.fs().AptRepo(sbx.Deb{Name: "trail-a", Version: "1.0", Depends: "trail-d (>= 2.0)"}, d1,
		sbx.Deb{Name: "trail-d", Version: "2.0", Scripts: sbx.AccountScript("trail-d", 990, "")})
	pkgs, accts := sb.fs().Packages(), sb.fs().Accounts()
	sb.apply(a, "A")
	sb.apply(b, "B")
	listFile := filepath.Join(t.TempDir(), "c.steps")
	if err := os.WriteFile(listFile, stepsText(sb.list("PKG trail-d version=2.0")), 0o644); err != nil {
		t.Fatal(err)
	}
	sb.e.Close()
	cutBetween := 0
	for at := 1; ; at++ {
		csb := crashCopy(t, sb, listFile, "C", at)
		if csb == nil {
			break
		}
		st, _ := (packages.Tools{Root: csb.root}).Status("trail-a")
		csb.opts.AllowMassRemoval = true
		gen := csb.recover(t)
		if st.State != packages.Installed && gen == 2 {
			cutBetween++
		}
		if g := csb.apply("", "Z"); len(g.Kept) != 0 {
			t.Fatalf("crash point %d (recovered to generation %d): kept %q", at, gen, g.Kept)
		}
		if got := csb.fs().Packages(); got != pkgs {
			t.Fatalf("crash point %d (recovered to generation %d): after the rollback packages are:\n%s\nwant:\n%s", at, gen, got, pkgs)
		}
		csb.fs().SameAccounts(accts, fmt.Sprintf("crash point %d (recovered to generation %d), after the rollback", at, gen))
	}
	if cutBetween == 0 {
		t.Fatal("no crash point between trail-a's removal and the records' write")
	}
}
