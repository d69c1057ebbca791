package e2e

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// TestShellcheck holds every script of the rig, scenarios included, to
// shellcheck's warnings. It skips where shellcheck is not installed.
func TestShellcheck(t *testing.T) {
	need(t, "shellcheck")
	var files []string
	for _, pattern := range []string{"*.sh", "lib/*.sh", "scenarios/*.sh"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Fatal("no scripts found")
	}
	args := append([]string{"--shell=bash", "--severity=warning", "--external-sources"}, files...)
	if out, err := exec.Command("shellcheck", args...).CombinedOutput(); err != nil {
		t.Errorf("shellcheck: %v\n%s", err, out)
	}
}
