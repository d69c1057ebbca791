package packages

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Under a root apt reads the root's configuration, not this machine's,
// and runs no hooks: they would run here, not in the root.
func TestAptReadsTheRootsConfiguration(t *testing.T) {
	root := t.TempDir()
	parts := filepath.Join(root, "etc/apt/apt.conf.d")
	if err := os.MkdirAll(parts, 0o755); err != nil {
		t.Fatal(err)
	}
	conf := "Trail::Test \"from the root\";\nDPkg::Post-Invoke { \"touch /tmp/trail-must-not-run\"; };\n"
	if err := os.WriteFile(filepath.Join(parts, "99trail-test"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := Tools{Root: root}.Apt("apt-config", "dump")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `Trail::Test "from the root";`) {
		t.Errorf("apt did not read the root's apt.conf.d:\n%s", out)
	}
	if strings.Contains(out, "Invoke::") || strings.Contains(out, "Pre-Install-Pkgs::") {
		t.Errorf("apt keeps hooks that would run on this machine:\n%s", out)
	}
	if !strings.Contains(out, `Dir "`+root) {
		t.Errorf("apt's Dir is not the root:\n%s", out)
	}
	left, _ := filepath.Glob(filepath.Join(os.TempDir(), "trail-apt-*.conf"))
	for _, f := range left {
		if data, err := os.ReadFile(f); err == nil && strings.Contains(string(data), root) {
			t.Errorf("the call left its configuration file %s", f)
		}
	}
}

func TestAptRefusesAQuoteInTheRoot(t *testing.T) {
	if _, err := (Tools{Root: "/tmp/a\"b"}).Apt("apt-config", "dump"); err == nil || !strings.Contains(err.Error(), "quote") {
		t.Fatalf("got %v, want the quote named", err)
	}
}
