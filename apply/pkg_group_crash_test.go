package apply

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	sbx "trail/apply/internal/sandbox"
	"trail/apply/kinds/packages"
	"trail/apply/state"
)

// A group of installs is predicted by one simulation split back to each
// step; when trail is killed after apt-get installed the group and before
// the journal learned what each step brought, recovery undoes the group
// from those predictions alone. Killed at every boundary, the root must
// then hold the packages and marks from before exactly (the record at
// the old generation) or the whole group (the new one): two steps share
// new dependencies, one step's package depends on another's, one has an
// alternative already installed, and one upgrades a package the admin
// installed to a version that needs a new one.
func TestPackageGroupCrash(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("re-executes the test binary at every crash point")
	}
	sb := newDebSandbox(t)
	fs := sb.fs()
	fs.AptRepo(sbx.Deb{Name: "trail-a", Version: "1.0", Depends: "trail-d, trail-e"},
		sbx.Deb{Name: "trail-b", Version: "1.0", Depends: "trail-d, trail-f"},
		sbx.Deb{Name: "trail-c", Version: "1.0", Depends: "trail-a"},
		sbx.Deb{Name: "trail-g", Version: "1.0", Depends: "trail-x | trail-y"},
		sbx.Deb{Name: "trail-u", Version: "1.0"}, sbx.Deb{Name: "trail-u", Version: "2.0", Depends: "trail-n"},
		sbx.Deb{Name: "trail-d", Version: "1.0"}, sbx.Deb{Name: "trail-e", Version: "1.0"},
		sbx.Deb{Name: "trail-f", Version: "1.0"}, sbx.Deb{Name: "trail-n", Version: "1.0"},
		sbx.Deb{Name: "trail-x", Version: "1.0"}, sbx.Deb{Name: "trail-y", Version: "1.0"})
	if out, err := (packages.Tools{Root: sb.root}).Apt("apt-get", "-y", "-q", "install", "trail-u=1.0", "trail-y"); err != nil {
		t.Fatalf("apt-get install: %v\n%s", err, out)
	}
	fs.AptMark("auto", "trail-y")
	const b = "FILE /srv/base {base}\nPKG trail-a\nPKG trail-b\nPKG trail-c\nPKG trail-g\nPKG trail-u version=2.0"
	sb.apply("FILE /srv/base {base}", "A")
	before := fs.Packages()
	listFile := filepath.Join(t.TempDir(), "b.steps")
	if err := os.WriteFile(listFile, stepsText(sb.list(b)), 0o644); err != nil {
		t.Fatal(err)
	}
	applied, err := state.ReadAppliedGeneration(sb.e.path(state.FileApplied))
	if err != nil {
		t.Fatal(err)
	}
	sb.e.Close()
	unamended := 0
	for at := 1; ; at++ {
		csb := crashCopy(t, sb, listFile, "B", at)
		if csb == nil {
			break
		}
		st, _ := (packages.Tools{Root: csb.root}).Status("trail-n")
		if st.State == packages.Installed && installCut(t, filepath.Join(csb.opts.StateDir, state.FileJournal), "PKG trail-a") {
			unamended++
		}
		gen := csb.recover(t)
		got := csb.fs().Packages()
		if gen == applied {
			if got != before {
				t.Fatalf("crash point %d: the record names the old generation, packages are:\n%s\nwant:\n%s", at, got, before)
			}
			continue
		}
		for _, want := range []string{"trail-a installed 1.0 manual", "trail-c installed 1.0 manual", "trail-d installed 1.0 auto",
			"trail-f installed 1.0 auto", "trail-n installed 1.0 auto", "trail-u installed 2.0 manual"} {
			if !strings.Contains(got, want) {
				t.Fatalf("crash point %d: the record names the new generation, no %q in the packages:\n%s", at, want, got)
			}
		}
		if strings.Contains(got, "trail-x ") {
			t.Fatalf("crash point %d: trail-x installed, though trail-y satisfies trail-g:\n%s", at, got)
		}
	}
	if unamended < 1 {
		t.Fatal("no crash point after apt-get installed the group and before the journal knew what it brought")
	}
}
