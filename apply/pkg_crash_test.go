package apply

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"

	sbx "trail/apply/internal/sandbox"
	"trail/apply/kinds/packages"
	"trail/apply/state"
)

// An apply that installs a package with a new dependency is killed with
// SIGKILL at every boundary in turn, including right after apt-get
// returned and before the journal learned what it brought. After
// recovery the root has both packages (only when the applied record names
// the new generation) or neither, with the package set as before.
//
// When the kill falls while apt runs (the install's intent journaled, not
// yet amended with what it brought), the package's postinst is taken to
// have made a system user and group and an enablement link, made here
// with the real useradd before recovery, as a maintainer script under
// --root cannot run: recovery removes them, and leaves the account and
// link that were there before.
func TestPackageDepsCrash(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("re-executes the test binary at every crash point")
	}
	sb := acctSandbox(t, true)
	sb.fs().DebRoot()
	sb.opts.AllowMassRemoval = true
	sb.open()
	if out, err := exec.Command("/usr/sbin/useradd", "--root", sb.root, "--system", "--user-group", "--no-create-home", "oldsvc").CombinedOutput(); err != nil {
		t.Fatalf("useradd: %v\n%s", err, out)
	}
	oldLink := "/etc/systemd/system/multi-user.target.wants/oldsvc.service"
	os.MkdirAll(sb.host(path.Dir(oldLink)), 0o755)
	if err := os.Symlink("/lib/systemd/system/oldsvc.service", sb.host(oldLink)); err != nil {
		t.Fatal(err)
	}
	sb.removeToolFiles()
	sb.fs().AptRepo(sbx.Deb{Name: "trail-a", Version: "1.0", Depends: "trail-b"}, sbx.Deb{Name: "trail-b", Version: "1.0", Depends: ""})
	sb.apply("FILE /srv/base {base}", "A")
	listFile := filepath.Join(t.TempDir(), "b.steps")
	if err := os.WriteFile(listFile, stepsText(sb.list("FILE /srv/base {base}\nPKG trail-a")), 0o644); err != nil {
		t.Fatal(err)
	}
	before, beforeAccounts, beforeLinks := sb.fs().Packages(), sb.accounts(), linksOf(t, sb.root)
	sb.e.Close()
	afterApply, midApt := 0, 0
	for at := 1; ; at++ {
		csb := crashCopy(t, sb, listFile, "B", at)
		if csb == nil {
			break
		}
		root, stateDir := csb.root, csb.opts.StateDir
		if installCut(t, filepath.Join(stateDir, state.FileJournal), "PKG trail-a") {
			midApt++
			postinstMarks(t, root)
		}
		if st, _ := (packages.Tools{Root: root}).Status("trail-b"); st.State == packages.Installed {
			afterApply++
		}
		gen := csb.recover(t)
		got := csb.fs().Packages()
		if gen == 2 {
			if !strings.Contains(got, "trail-a installed 1.0 manual") || !strings.Contains(got, "trail-b installed 1.0 auto") {
				t.Fatalf("crash point %d: committed, but packages are:\n%s", at, got)
			}
			continue
		}
		if got != before {
			t.Fatalf("crash point %d: after recovery packages are:\n%s\nwant:\n%s", at, got, before)
		}
		csb.removeToolFiles()
		if got := csb.accounts(); !reflect.DeepEqual(got, beforeAccounts) {
			t.Fatalf("crash point %d: after recovery the account files are:\n%q\nwant:\n%q", at, got, beforeAccounts)
		}
		if got := linksOf(t, root); !reflect.DeepEqual(got, beforeLinks) {
			t.Fatalf("crash point %d: after recovery the enablement links are %v, want %v", at, got, beforeLinks)
		}
	}
	if midApt < 2 {
		t.Fatalf("only %d crash points while apt ran, want the one after the intent and the one after apt-get returned", midApt)
	}
	if afterApply < 2 {
		t.Fatalf("only %d crash points after apt-get installed the packages, want the one before the journal knew", afterApply)
	}
}

// installCut reports whether the journal holds the intent of step and no
// amend of it: the apply was killed before its apt-get call had returned
// and been recorded.
func installCut(t *testing.T, file, step string) bool {
	t.Helper()
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	intent := -1
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var e state.JournalEntry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("journal line %q: %v", line, err)
		}
		switch {
		case e.Op == "intent" && strings.HasPrefix(e.Step, step+" "):
			intent = e.I
		case e.Op == "amend" && e.I == intent:
			return false
		}
	}
	return intent >= 0
}

// postinstMarks makes in root what a service package's postinst makes: a
// system user with its group, and its unit's enablement link.
func postinstMarks(t *testing.T, root string) {
	t.Helper()
	if out, err := exec.Command("/usr/sbin/useradd", "--root", root, "--system", "--user-group", "--no-create-home", "trail-a").CombinedOutput(); err != nil {
		t.Fatalf("useradd: %v\n%s", err, out)
	}
	l := filepath.Join(root, "/etc/systemd/system/multi-user.target.wants/trail-a.service")
	if err := os.Symlink("/lib/systemd/system/trail-a.service", l); err != nil {
		t.Fatal(err)
	}
}

// linksOf returns the root's systemd enablement links.
func linksOf(t *testing.T, root string) map[string]bool {
	t.Helper()
	m, err := packages.ReadMarks(packages.Tools{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	return m.Links
}

// crashCopy copies sb's root and state directory (sb closed) and applies
// the list in listFile there as commit, in a child killed at crash point
// at; it returns the copy, or nil when the apply finished before that
// point (at least five points in).
func crashCopy(t *testing.T, sb *sandbox, listFile, commit string, at int) *sandbox {
	t.Helper()
	dst := filepath.Join(t.TempDir(), strconv.Itoa(at))
	root, stateDir := filepath.Join(dst, "root"), filepath.Join(dst, "state")
	os.MkdirAll(dst, 0o755)
	for from, to := range map[string]string{sb.root: root, sb.opts.StateDir: stateDir} {
		if out, err := exec.Command("cp", "-a", from, to).CombinedOutput(); err != nil {
			t.Fatalf("cp: %v %s", err, out)
		}
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "TRAIL_TEST_CHILD=1", "TRAIL_TEST_ROOT="+root, "TRAIL_TEST_STATE="+stateDir,
		"TRAIL_TEST_LIST="+listFile, "TRAIL_TEST_COMMIT="+commit, "TRAIL_TEST_CRASH_AT="+strconv.Itoa(at))
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
		return nil
	}
	return &sandbox{t: t, root: root, state: dst, opts: Options{Root: root, StateDir: stateDir}}
}

// recover opens the engine on a crash copy, which recovers its journal,
// and returns the generation the copy's state then names as applied.
func (sb *sandbox) recover(t *testing.T) int {
	t.Helper()
	sb.open()
	gen, err := state.ReadAppliedGeneration(sb.e.path(state.FileApplied))
	if err != nil {
		t.Fatal(err)
	}
	return gen
}
