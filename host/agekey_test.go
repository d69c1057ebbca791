package host

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// trail.agekey names a file outside the checkout by an absolute path; the
// default is /etc/trail/age.key under the root.
func TestAgeKeySetting(t *testing.T) {
	c := gitDir(t, map[string]string{"config": "[trail]\n\tagekey = /etc/trail/host.age\n"})
	if s, err := LoadSettings(c); err != nil || s.AgeKey != "/etc/trail/host.age" {
		t.Fatalf("settings %+v, %v", s, err)
	}
	dir := t.TempDir()
	h := &Host{Checkout: &Checkout{Dir: dir}, Settings: Settings{Root: "/srv/root"}}
	if got := h.Decrypter().Path(); got != "/srv/root/etc/trail/age.key" {
		t.Errorf("default key %s", got)
	}
	for path, want := range map[string]string{
		"keys/age.key":                    "trail.agekey is not an absolute path",
		filepath.Join(dir, "age.key"):     "is inside the checkout, where it could be committed",
		filepath.Join(dir, "sub/age.key"): "is inside the checkout",
	} {
		os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
		os.WriteFile(filepath.Join(dir, "age.key"), []byte("AGE-SECRET-KEY-1X\n"), 0o600)
		h := &Host{Checkout: &Checkout{Dir: dir}, Settings: Settings{AgeKey: path}}
		if _, err := h.Decrypter().Decrypt([]byte("age-encryption.org/v1\n")); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("trail.agekey %s: %v, want %q", path, err, want)
		}
	}
}
