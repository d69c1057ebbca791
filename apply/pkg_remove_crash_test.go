package apply

import (
	"os"
	"path/filepath"
	"testing"

	sbx "trail/apply/internal/sandbox"
	"trail/apply/kind"
	"trail/apply/kinds/packages"
)

// The rollback of two packages trail installed, one with a dependency
// the other shares, is killed with SIGKILL at every boundary, the purge
// call included. After recovery the root has the packages as before the
// rollback (it was undone) or as before trail (it committed).
func TestPackageRemovalCrash(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("re-executes the test binary at every crash point")
	}
	sb := newDebSandbox(t)
	sb.fs().AptRepo(sbx.Deb{Name: "trail-a", Version: "1.0", Depends: "trail-c"}, sbx.Deb{Name: "trail-b", Version: "1.0", Depends: "trail-c"}, sbx.Deb{Name: "trail-c", Version: "1.0", Depends: ""})
	pristine := sb.fs().Packages()
	sb.apply("FILE /srv/base {base}\nPKG trail-a", "A")
	sb.apply("FILE /srv/base {base}\nPKG trail-b\nPKG trail-a", "B")
	installed := sb.fs().Packages()
	listFile := filepath.Join(t.TempDir(), "a.steps")
	if err := os.WriteFile(listFile, stepsText(sb.list("FILE /srv/base {base}")), 0o644); err != nil {
		t.Fatal(err)
	}
	sb.e.Close()
	purged := 0
	for at := 1; ; at++ {
		csb := crashCopy(t, sb, listFile, "C", at)
		if csb == nil {
			break
		}
		root := csb.root
		if st, _ := (packages.Tools{Root: root}).Status("trail-c"); st.State == kind.StateAbsent {
			purged++
		}
		gen := csb.recover(t)
		want := installed
		if gen == 3 {
			want = pristine
		}
		if got := csb.fs().Packages(); got != want {
			t.Fatalf("crash point %d (generation %d): after recovery packages are:\n%s\nwant:\n%s", at, gen, got, want)
		}
	}
	if purged < 2 {
		t.Fatalf("only %d crash points after apt-get purged the packages, want some before the commit", purged)
	}
}
