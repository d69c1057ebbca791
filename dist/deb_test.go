package dist

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// debEntry is one line of dpkg-deb --contents.
type debEntry struct{ mode, owner, path, link string }

// debContents lists the package's files as dpkg would install them.
func debContents(t *testing.T, deb string) map[string]debEntry {
	t.Helper()
	out, err := exec.Command("dpkg-deb", "--contents", deb).Output()
	if err != nil {
		t.Fatalf("dpkg-deb --contents %s: %v", deb, err)
	}
	entries := map[string]debEntry{}
	for l := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(l)
		if len(f) < 6 {
			t.Fatalf("dpkg-deb --contents: unexpected line %q", l)
		}
		e := debEntry{mode: f[0], owner: f[1], path: strings.TrimSuffix(strings.TrimPrefix(f[5], "."), "/")}
		if len(f) >= 8 && f[6] == "->" {
			e.link = f[7]
		}
		if e.path != "" {
			entries[e.path] = e
		}
	}
	return entries
}

// TestDeb checks the package make deb built: its files, their modes and
// owners, the units pointing at the packaged binary, and lintian. It
// needs the package, so make deb-test (run by make e2e) runs it with
// TRAIL_DEB set.
func TestDeb(t *testing.T) {
	deb := os.Getenv("TRAIL_DEB")
	if deb == "" {
		t.Skip("SKIP: TRAIL_DEB is not set: make deb-test builds the package and checks it")
	}
	got := debContents(t, deb)
	files := []string{
		"/usr/bin/trail",
		"/lib/systemd/system/trail-watch.service",
		"/lib/systemd/system/trail-pull.service",
		"/lib/systemd/system/trail-pull.timer",
		"/usr/share/man/man1/trail.1.gz",
		"/usr/share/man/man5/trail-config.5.gz",
		"/usr/share/bash-completion/completions/trail",
		"/usr/share/doc/trail/README.md.gz",
		"/usr/share/doc/trail/language.md.gz",
		"/usr/share/doc/trail/steps.md.gz",
		"/usr/share/doc/trail/monitoring.md.gz",
		"/usr/share/doc/trail/alerts.yml",
		"/usr/share/doc/trail/grafana-dashboard.json",
		"/usr/share/doc/trail/changelog.gz",
		"/usr/share/doc/trail/copyright",
		"/usr/share/lintian/overrides/trail",
	}
	dirs := []string{"/var/lib/trail"}
	var want []string
	for _, p := range append(slices.Clone(files), dirs...) {
		for d := p; d != "/"; d = filepath.Dir(d) {
			if !slices.Contains(want, d) {
				want = append(want, d)
			}
		}
	}
	for p := range got {
		if !slices.Contains(want, p) {
			t.Errorf("%s ships %s, which this test does not expect: add it here if it belongs", deb, p)
		}
	}
	for _, p := range want {
		e, ok := got[p]
		if !ok {
			t.Errorf("%s lacks %s", deb, p)
			continue
		}
		if e.owner != "root/root" {
			t.Errorf("%s: owner %s, want root/root", p, e.owner)
		}
		wantMode := "drwxr-xr-x"
		switch {
		case p == "/var/lib/trail":
			wantMode = "drwx------" // pre-images of /etc/shadow and the like
		case p == "/usr/bin/trail":
			wantMode = "-rwxr-xr-x"
		case slices.Contains(files, p):
			wantMode = "-rw-r--r--"
		}
		if e.mode != wantMode {
			t.Errorf("%s: mode %s, want %s", p, e.mode, wantMode)
		}
	}

	x := t.TempDir()
	if out, err := exec.Command("dpkg-deb", "-x", deb, x).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb -x: %v\n%s", err, out)
	}
	for _, name := range Names {
		unit, err := os.ReadFile(filepath.Join(x, "lib/systemd/system", name))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(unit), "/usr/local/bin/trail") || strings.Contains(name, ".service") && !strings.Contains(string(unit), "ExecStart=/usr/bin/trail ") {
			t.Errorf("%s in the package does not run /usr/bin/trail:\n%s", name, unit)
		}
	}
	if out, err := exec.Command(filepath.Join(x, "usr/bin/trail"), "help").CombinedOutput(); err != nil || !strings.Contains(string(out), "usage: trail") {
		t.Errorf("the packaged trail does not run: %v\n%s", err, out)
	}

	if _, err := exec.LookPath("lintian"); err != nil {
		t.Fatalf("lintian not found (%v): apt-get install lintian, or run .ci/deps", err)
	}
	out, err := exec.Command("lintian", "--fail-on", "error,warning", deb).CombinedOutput()
	if err != nil {
		t.Errorf("lintian --fail-on error,warning %s: %v\n%s", deb, err, out)
	}
}
