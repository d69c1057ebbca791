package apply

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	sbx "trail/apply/internal/sandbox"
)

// Killed with trail, a dpkg leaves its run unfinished (its updates
// journal not empty), and apt-get then refuses everything until someone
// runs `dpkg --configure -a`. Recovery finishes dpkg's run first, so
// that its undo of the PKG change can run apt-get: the package the
// killed apply was installing is gone again, and the host is at A.
func TestRecoveryFinishesCutDpkgRun(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	sb := newDebSandbox(t)
	sb.fs().AptRepo(sbx.Deb{Name: "trail-a", Version: "1.0", Depends: ""})
	sb.apply("FILE /srv/base {base}", "A")
	sb.e.Close()
	before := sb.fs().Packages()
	h := &crashHarness{t: t, root: sb.root, state: sb.opts.StateDir, good: writeList(t, sb, "FILE /srv/base {base}\nPKG trail-a")}
	// 1 begin, 2 generation started, 3 the PKG change's intent is durable.
	if !h.run(sb.root, sb.opts.StateDir, h.good, 3) {
		t.Fatal("the apply was not killed")
	}
	// What the killed dpkg leaves: trail-a unpacked, and its run's journal.
	deb := sbx.BuildDeb(t, t.TempDir(), sbx.Deb{Name: "trail-a", Version: "1.0", Depends: ""})
	if out, err := exec.Command("dpkg", "--root="+sb.root, "--unpack", deb).CombinedOutput(); err != nil {
		t.Fatalf("dpkg --unpack: %v\n%s", err, out)
	}
	status, err := os.ReadFile(sb.host("/var/lib/dpkg/status"))
	if err != nil {
		t.Fatal(err)
	}
	var stanza string
	for _, s := range strings.Split(string(status), "\n\n") {
		if strings.HasPrefix(s, "Package: trail-a\n") {
			stanza = strings.Replace(s, "install ok unpacked", "install ok half-configured", 1) + "\n"
		}
	}
	if stanza == "" {
		t.Fatalf("trail-a not in dpkg's status:\n%s", status)
	}
	if err := os.WriteFile(sb.host("/var/lib/dpkg/updates/0000"), []byte(stanza), 0o644); err != nil {
		t.Fatal(err)
	}
	sb.opts.StateDir = h.state
	sb.e = nil
	sb.open()
	if got := sb.fs().Packages(); got != before {
		t.Fatalf("after recovery the packages are:\n%s\nwant:\n%s", got, before)
	}
	if ents, _ := os.ReadDir(filepath.Join(sb.root, "var/lib/dpkg/updates")); len(ents) != 0 {
		t.Fatalf("dpkg's run is still unfinished: %v", ents)
	}
	if cur, err := sb.e.Current(); err != nil || cur.Commit != "A" {
		t.Fatalf("after recovery: %v %v", cur, err)
	}
}
