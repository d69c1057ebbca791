package packages

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"trail/stepfmt"
)

// With TRAIL_SPLIT_DEBIAN naming real Debian packages, a group of them is
// predicted against this machine's apt lists and dpkg status, copied into
// a root (nothing of this machine's is written): the split of the one
// simulation must find each package's new dependencies exactly as its own
// simulation does, with and without recommends (packages apt cannot
// install together, such as two mail servers, fall back to a simulation
// each and are no test of the split). Slow (a simulation per
// package, as the reference), so only when asked, e.g.
//
//	TRAIL_SPLIT_DEBIAN="apache2 libapache2-mod-php8.2 php8.2-cli haproxy exim4 mutt mariadb-server"
func TestSplitAsAloneOnDebian(t *testing.T) {
	names := strings.Fields(os.Getenv("TRAIL_SPLIT_DEBIAN"))
	lists, _ := filepath.Glob("/var/lib/apt/lists/*_Packages*")
	sources, _ := filepath.Glob("/etc/apt/sources.list.d/*.sources")
	if len(names) == 0 || len(lists) == 0 {
		t.Skip("set TRAIL_SPLIT_DEBIAN to package names, on a Debian with apt lists")
	}
	root := t.TempDir()
	for _, d := range []string{"/var/lib/dpkg/info", "/var/lib/dpkg/updates", "/etc/apt/apt.conf.d", "/etc/apt/preferences.d",
		"/etc/apt/sources.list.d", "/var/lib/apt/lists/partial", "/var/cache/apt/archives/partial"} {
		if err := os.MkdirAll(root+d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range append(append(lists, sources...), "/var/lib/dpkg/status", "/var/lib/apt/extended_states") {
		data, err := os.ReadFile(f)
		if err != nil && f == "/var/lib/apt/extended_states" {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(root+f, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tl := Tools{Root: root}
	var steps []*stepfmt.Step
	for _, n := range names {
		steps = append(steps, &stepfmt.Step{Kind: stepfmt.KindPackage, Target: n})
	}
	refs, errs, err := tl.sources(steps)
	if err != nil {
		t.Fatal(err)
	}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("%s: %v", names[i], err)
		}
	}
	for _, rec := range []bool{false, true} {
		per, _, ok := predictTogether(tl, steps, refs, rec)
		if !ok {
			t.Fatalf("recommends %v: the group's simulation could not be split", rec)
		}
		for i, s := range steps {
			alone, _ := predictAlone(tl, s, refs[i], rec)
			slices.Sort(alone)
			if !slices.Equal(per[i], alone) {
				t.Errorf("recommends %v: %s brings %q in the group, %q alone", rec, s.Target, per[i], alone)
			}
		}
	}
}
