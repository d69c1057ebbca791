package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMirrorDebsSkipsWithoutMirror runs mirrordebs.sh against a mirror
// that cannot be reached: it must exit 77 (the rig's skip) saying why and
// which packages, and leave no cache entry behind.
func TestMirrorDebsSkipsWithoutMirror(t *testing.T) {
	need(t, "sha256sum", "flock", "/usr/lib/apt/apt-helper")
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	if err := os.MkdirAll(filepath.Join(root, "var/lib/dpkg"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "var/lib/dpkg/status"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cache := filepath.Join(dir, "cache")
	cmd := exec.Command("./mirrordebs.sh", cache, root, "nginx", "curl")
	// Port 9 (discard) on the loopback: refused at once, no network.
	cmd.Env = append(os.Environ(), "E2E_MIRROR=http://127.0.0.1:9/debian")
	out, err := cmd.CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 77 {
		t.Fatalf("mirrordebs.sh without a mirror: %v, want exit 77\n%s", err, out)
	}
	want := "e2e: SKIP: no reachable Debian mirror serves bookworm to download curl nginx; looked in E2E_MIRROR=http://127.0.0.1:9/debian"
	if !strings.Contains(string(out), want) {
		t.Errorf("output lacks %q:\n%s", want, out)
	}
	if m, _ := filepath.Glob(filepath.Join(cache, "debs-*")); len(m) != 0 {
		t.Errorf("a skip left cache entries: %v", m)
	}
}

// TestMirrorDebsRefusesNoRoot: a root without a dpkg status is a mistake
// of the caller, named, not a skip.
func TestMirrorDebsRefusesNoRoot(t *testing.T) {
	dir := t.TempDir()
	out, err := exec.Command("./mirrordebs.sh", filepath.Join(dir, "cache"), dir, "nginx").CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "no var/lib/dpkg/status") {
		t.Errorf("mirrordebs.sh on an empty root: %v\n%s", err, out)
	}
}
