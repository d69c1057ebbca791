package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunSkipsWithoutRoot runs run.sh as an unprivileged user: it must
// skip loudly, with exit 0, or exit 1 under E2E_STRICT=1, and do nothing
// else (no "passed" line, no cache).
func TestRunSkipsWithoutRoot(t *testing.T) {
	var prefix []string
	if os.Getuid() == 0 {
		need(t, "setpriv")
		prefix = []string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"}
	}
	// A copy in a world-readable directory, so the dropped user can read it.
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"run.sh", "lib/common.sh"} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, "e2e", f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cache := filepath.Join(dir, "cache")
	tests := []struct {
		name   string
		strict string
		status int
	}{
		{name: "skip", strict: "", status: 0},
		{name: "strict", strict: "1", status: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			argv := append(append([]string{}, prefix...), "bash", filepath.Join(dir, "e2e/run.sh"))
			cmd := exec.Command(argv[0], argv[1:]...)
			cmd.Env = append(os.Environ(), "CACHE="+cache, "E2E_STRICT="+tt.strict)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			err := cmd.Run()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tt.status {
				t.Errorf("exit %d, want %d\n%s", code, tt.status, &out)
			}
			if !strings.HasPrefix(out.String(), "e2e: SKIP: must run as root") {
				t.Errorf("output does not start with the skip reason:\n%s", &out)
			}
			if strings.Contains(out.String(), "passed") {
				t.Errorf("a skip must not report results:\n%s", &out)
			}
			if _, err := os.Stat(cache); !os.IsNotExist(err) {
				t.Errorf("a skip touched the cache: %v", err)
			}
		})
	}
}
