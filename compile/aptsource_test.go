package compile

import (
	"os/exec"
	"testing"
)

// A binary key is armored as gpg armors it, checksum included.
func TestArmorIsGpgs(t *testing.T) {
	if _, err := exec.LookPath("gpg"); err != nil {
		t.Skip("gpg is not installed")
	}
	home := t.TempDir()
	gpg := func(args ...string) []byte {
		t.Helper()
		out, err := exec.Command("gpg", append([]string{"--batch", "--quiet", "--homedir", home,
			"--pinentry-mode", "loopback", "--passphrase", ""}, args...)...).Output()
		if err != nil {
			t.Fatalf("gpg %v: %v", args, err)
		}
		return out
	}
	t.Cleanup(func() { exec.Command("gpgconf", "--homedir", home, "--kill", "all").Run() })
	gpg("--quick-gen-key", "trail test <trail@localhost>", "ed25519", "sign", "never")
	want := string(gpg("--armor", "--export"))
	armored, err := armor(gpg("--export"))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(armored); got != want {
		t.Fatalf("armored:\n%s\ngpg armors:\n%s", got, want)
	}
}
