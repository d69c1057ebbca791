// Package examples holds the example config and the demo; its test runs
// the demo as `make demo` does, so that the README's account stays true.
package examples

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
)

func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds trail and runs the whole demo")
	}
	bin := filepath.Join(t.TempDir(), "trail")
	if out, err := exec.Command("go", "build", "-o", bin, "trail/cmd/trail").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command("./examples/demo.sh")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "TRAIL="+bin, "TMPDIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	for _, want := range []string{
		`(?m)^trail: applied [0-9a-f]{12} as generation 1 in .*: \d+ added, 0 modified, 0 removed, 0 unchanged$`,
		`(?m)^  = CHECK site .* -> ok`,
		`(?m)^TRAIL WARNING - .*1 commit\(s\) behind origin/main$`,
		`(?m)^\+ FILE /etc/motd sha256:`,
		`(?m)^demo/host\$ cat \.\./root/etc/motd\nweb1: managed by trail, see /etc/web$`,
		`(?m)^    FILE /etc/web/site\.conf: content \(policy report\)$`,
		`(?m)^  - FILE /etc/motd`,
		`(?m)^demo/host\$ cat \.\./root/etc/motd\nDebian GNU/Linux 12, as installed$`,
		`(?m)pinned: detached HEAD`,
		`(?m)does not compile; nothing was changed`,
		`(?m)^TRAIL CRITICAL - .*failed at main\.hcl:54`,
		`(?m)^\(exit 2\)$`,
		`(?m)^\*    5 .* ok .*Revert "a typo"$`,
		`(?m)^trail_applied_info\{branch="main",commit="[0-9a-f]{40}",generation="5"\} 1$`,
	} {
		if !regexp.MustCompile(want).Match(out) {
			t.Errorf("the demo's output has no match for %s", want)
		}
	}
	if t.Failed() {
		t.Logf("demo output:\n%s", out)
	}
}
