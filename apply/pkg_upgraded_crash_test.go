package apply

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	sbx "trail/apply/internal/sandbox"
	"trail/apply/kinds/packages"
)

// An apply whose install upgrades trail-d, installed before trail at
// 1.0, as its dependency is killed with SIGKILL at every boundary in
// turn, including right after apt-get returned and before the journal
// learned what it upgraded. After recovery trail-d is at 2.0 only when
// the applied record names the new generation, else the packages are as
// before, trail-d at 1.0.
func TestPackageUpgradedDepCrash(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("re-executes the test binary at every crash point")
	}
	sb := newDebSandbox(t)
	d1 := sbx.Deb{Name: "trail-d", Version: "1.0"}
	sb.fs().DpkgInstall(sbx.BuildDeb(t, t.TempDir(), d1))
	sb.fs().AptRepo(sbx.Deb{Name: "trail-a", Version: "1.0", Depends: "trail-d (>= 2.0)"}, d1, sbx.Deb{Name: "trail-d", Version: "2.0"})
	sb.apply("FILE /srv/base {base}", "A")
	listFile := filepath.Join(t.TempDir(), "b.steps")
	if err := os.WriteFile(listFile, stepsText(sb.list("FILE /srv/base {base}\nPKG trail-a")), 0o644); err != nil {
		t.Fatal(err)
	}
	before := sb.fs().Packages()
	sb.e.Close()
	afterApt := 0
	for at := 1; ; at++ {
		csb := crashCopy(t, sb, listFile, "B", at)
		if csb == nil {
			break
		}
		if st, _ := (packages.Tools{Root: csb.root}).Status("trail-a"); st.State == packages.Installed {
			afterApt++
		}
		gen := csb.recover(t)
		got := csb.fs().Packages()
		if gen == 2 {
			if !strings.Contains(got, "trail-a installed 1.0 manual") || !strings.Contains(got, "trail-d installed 2.0") {
				t.Fatalf("crash point %d: committed, but packages are:\n%s", at, got)
			}
			continue
		}
		if got != before {
			t.Fatalf("crash point %d: after recovery packages are:\n%s\nwant:\n%s", at, got, before)
		}
	}
	if afterApt < 2 {
		t.Fatalf("only %d crash points after apt-get installed the packages, want the one before the journal knew", afterApt)
	}
}
