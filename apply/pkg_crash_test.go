package apply

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// An apply that installs a package with a new dependency is killed with
// SIGKILL at every boundary in turn, including right after apt-get
// returned and before the journal learned what it brought. After
// recovery the root has both packages (only when the applied record names
// the new generation) or neither, with the package set as before.
func TestPackageDepsCrash(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("re-executes the test binary at every crash point")
	}
	sb := newDebSandbox(t)
	sb.aptRepo(repoDeb{"trail-a", "1.0", "trail-b"}, repoDeb{"trail-b", "1.0", ""})
	sb.apply("FILE /srv/base {base}", "A")
	listFile := filepath.Join(t.TempDir(), "b.steps")
	if err := os.WriteFile(listFile, stepsText(sb.list("FILE /srv/base {base}\nPKG trail-a")), 0o644); err != nil {
		t.Fatal(err)
	}
	before := sb.packages()
	sb.e.Close()
	afterApply := 0
	for at := 1; ; at++ {
		dst := filepath.Join(t.TempDir(), strconv.Itoa(at))
		root, state := filepath.Join(dst, "root"), filepath.Join(dst, "state")
		os.MkdirAll(dst, 0o755)
		for from, to := range map[string]string{sb.root: root, sb.opts.StateDir: state} {
			if out, err := exec.Command("cp", "-a", from, to).CombinedOutput(); err != nil {
				t.Fatalf("cp: %v %s", err, out)
			}
		}
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "TRAIL_TEST_CHILD=1", "TRAIL_TEST_ROOT="+root, "TRAIL_TEST_STATE="+state,
			"TRAIL_TEST_LIST="+listFile, "TRAIL_TEST_COMMIT=B", "TRAIL_TEST_CRASH_AT="+strconv.Itoa(at))
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		killed := errors.As(err, &ee) && ee.Sys().(syscall.WaitStatus).Signaled()
		if err != nil && !killed {
			t.Fatalf("child at crash point %d: %v\n%s", at, err, out)
		}
		if !killed {
			if at < 5 {
				t.Fatalf("the apply finished at crash point %d: too few boundaries to test", at)
			}
			break
		}
		csb := &sandbox{t: t, root: root, state: dst, opts: Options{Root: root, StateDir: state}}
		if st, _ := (pkgTools{root: root}).status("trail-b"); st.state == pkgInstalled {
			afterApply++
		}
		csb.open()
		gen, err := readAppliedGeneration(csb.e.path(fileApplied))
		if err != nil {
			t.Fatal(err)
		}
		got := csb.packages()
		if gen == 2 {
			if !strings.Contains(got, "trail-a installed 1.0 manual") || !strings.Contains(got, "trail-b installed 1.0 auto") {
				t.Fatalf("crash point %d: committed, but packages are:\n%s", at, got)
			}
			continue
		}
		if got != before {
			t.Fatalf("crash point %d: after recovery packages are:\n%s\nwant:\n%s", at, got, before)
		}
	}
	if afterApply < 2 {
		t.Fatalf("only %d crash points after apt-get installed the packages, want the one before the journal knew", afterApply)
	}
}
