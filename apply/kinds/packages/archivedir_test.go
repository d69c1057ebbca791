package packages_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"trail/apply/internal/sandbox"
	"trail/apply/internal/sandbox/engine"
	"trail/apply/kinds/packages"
)

// The archives a group's install unpacks are read where apt keeps them:
// its Dir::Cache::archives, here not apt's default, into which apt
// fetches them (a copy: source) before they are named.
func TestArchivesInTheConfiguredCache(t *testing.T) {
	t.Parallel()
	sb := engine.NewDeb(t)
	sb.AptRepo(sandbox.Deb{Name: "trail-a", Version: "1.0", Depends: "trail-b"}, sandbox.Deb{Name: "trail-b", Version: "1.0"})
	src, err := os.ReadFile(sb.Host("/etc/apt/sources.list"))
	if err != nil {
		t.Fatal(err)
	}
	copySrc := strings.Replace(string(src), " file:", " copy:", 1)
	conf := "Dir::Cache::archives \"elsewhere/\";\n"
	if err := os.WriteFile(sb.Host("/etc/apt/sources.list"), []byte(copySrc), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sb.Host("/etc/apt/apt.conf.d/20cache"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(sb.Host("/var/cache/apt/elsewhere/partial"), 0o755); err != nil {
		t.Fatal(err)
	}
	tools := packages.Tools{Root: sb.Dir}
	if out, err := tools.Apt("apt-get", "-q", "update"); err != nil {
		t.Fatalf("apt-get update: %v\n%s", err, out)
	}
	debs, err := tools.Archives("trail-a")
	if err != nil {
		t.Fatal(err)
	}
	if len(debs) != 2 {
		t.Fatalf("archives %q, want trail-a's and trail-b's", debs)
	}
	for _, deb := range debs {
		if filepath.Dir(deb) != sb.Host("/var/cache/apt/elsewhere") {
			t.Errorf("%s is not in apt's configured cache", deb)
		}
		if _, err := os.Stat(deb); err != nil {
			t.Errorf("%s was not fetched: %v", deb, err)
		}
	}
}
