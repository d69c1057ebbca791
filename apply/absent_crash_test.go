package apply

import (
	"os"
	"path/filepath"
	"testing"

	"trail/apply/kind"
	"trail/apply/kinds/packages"
	"trail/apply/state"
)

// Making two packages the admin installed absent, and the rollback that
// installs them again, are each killed with SIGKILL at every boundary,
// apt-get's call included. After recovery the root's packages are those
// of the generation the applied record names, whole.
func TestAbsentPackageCrash(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("re-executes the test binary at every crash point")
	}
	sb := absentRepo(t)
	sb.opts.AllowMassRemoval = true
	sb.open()
	const a, b = "FILE /srv/base {base}", "FILE /srv/base {base}\nPKG trail-needs absent=true\nPKG trail-lib absent=true"
	sb.apply(a, "A")
	pristine := sb.fs().Packages()
	for _, tc := range []struct {
		name, from, to string
		commit         string
	}{{"forward", a, b, "B"}, {"reverse", b, a, "A2"}} {
		sb.open()
		sb.apply(tc.from, "from-"+tc.name)
		old := sb.fs().Packages()
		listFile := filepath.Join(t.TempDir(), "to.steps")
		if err := os.WriteFile(listFile, stepsText(sb.list(tc.to)), 0o644); err != nil {
			t.Fatal(err)
		}
		applied, err := state.ReadAppliedGeneration(sb.e.path(state.FileApplied))
		if err != nil {
			t.Fatal(err)
		}
		sb.e.Close()
		want := map[bool]string{false: old, true: pristine}[tc.name == "reverse"]
		if tc.name == "forward" {
			want = ""
		}
		cut := 0
		for at := 1; ; at++ {
			csb := crashCopy(t, sb, listFile, tc.commit, at)
			if csb == nil {
				break
			}
			if st, _ := (packages.Tools{Root: csb.root}).Status("trail-lib"); (st.State == kind.StateAbsent) == (tc.name == "forward") {
				cut++
			}
			gen := csb.recover(t)
			got := csb.fs().Packages()
			switch {
			case gen == applied && got != old:
				t.Fatalf("%s, crash point %d: the record names the old generation, packages are:\n%s\nwant:\n%s", tc.name, at, got, old)
			case gen != applied && want != "" && got != want:
				t.Fatalf("%s, crash point %d: the record names the new generation, packages are:\n%s\nwant:\n%s", tc.name, at, got, want)
			case gen != applied && want == "" && got == old:
				t.Fatalf("%s, crash point %d: the record names the new generation, the packages are the old ones", tc.name, at)
			}
		}
		if cut < 1 {
			t.Fatalf("%s: no crash point after apt-get ran", tc.name)
		}
	}
}
