package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// script runs a bash snippet with lib/ sourced, the given environment
// added, and returns its stdout, stderr and exit status.
func script(t testing.TB, env []string, snippet string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	lib, err := filepath.Abs("lib")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	full := ". \"$E2E_LIB/common.sh\"; . \"$E2E_LIB/mirror.sh\"; " + snippet
	cmd := exec.CommandContext(ctx, "bash", append([]string{"-c", full, "bash"}, args...)...)
	cmd.Env = append(append(os.Environ(), "E2E_LIB="+lib), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("bash snippet timed out: %s", snippet)
	}
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return out.String(), errb.String(), ee.ExitCode()
		}
		t.Fatalf("bash: %v", err)
	}
	return out.String(), errb.String(), 0
}

// need skips the test when a host tool the rig relies on is missing.
func need(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (./.ci/deps installs it)", tool)
		}
	}
}
