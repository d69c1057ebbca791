package apply

import (
	"os"
	"path/filepath"
	"testing"

	sbx "trail/apply/internal/sandbox"
	"trail/apply/kinds/packages"
)

// copyRepo serves debs from a copy: source, whose archives apt copies
// into the root's cache as it would download them, and returns their
// names there.
func copyRepo(t *testing.T, r *sbx.Root, debs ...sbx.Deb) []string {
	t.Helper()
	dir := t.TempDir()
	var paths, names []string
	for _, d := range debs {
		paths = append(paths, sbx.BuildDeb(t, dir, d))
		names = append(names, filepath.Base(paths[len(paths)-1]))
	}
	r.WriteRepo(dir, paths)
	src := "deb [trusted=yes] copy:" + dir + " ./\n"
	if err := os.WriteFile(r.Host("/etc/apt/sources.list"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := (packages.Tools{Root: r.Dir}).Apt("apt-get", "-q", "update"); err != nil {
		t.Fatalf("apt-get update: %v\n%s", err, out)
	}
	return names
}

// A list with no path step has no step a package's files could be
// under: its installs are not listed beforehand, so apt fetches their
// archives itself, and (APT::Keep-Downloaded-Packages off) removes them
// from its cache once installed, as it does without trail.
func TestShippingNotListedWithoutPathSteps(t *testing.T) {
	t.Parallel()
	sb := newDebSandbox(t)
	keep := sb.fs().Host("/etc/apt/apt.conf.d/90keep")
	if err := os.WriteFile(keep, []byte("APT::Keep-Downloaded-Packages \"false\";\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	names := copyRepo(t, sb.fs(), sbx.Deb{Name: "trail-a", Version: "1.0", Depends: "trail-b"},
		sbx.Deb{Name: "trail-b", Version: "1.0", Files: map[string]string{"/etc/trail-b.conf": "shipped\n"}})
	sb.apply("PKG trail-a\n", "c1")
	for _, n := range names {
		if _, err := os.Stat(sb.fs().Host("/var/cache/apt/archives/" + n)); err == nil {
			t.Errorf("%s was fetched before the install and left in apt's cache", n)
		}
	}
}
