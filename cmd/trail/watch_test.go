package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"trail/apply"
	"trail/gitrepo/gittest"
	"trail/host"
)

// After each change trail watch sees, its metrics come from the drift
// check the watcher just ran: writing them checks drift no second time,
// and they count what that check found (here, on purpose, a check from
// before the file was put back).
func TestWatchMetricsFromItsCheck(t *testing.T) {
	work := t.TempDir()
	g := newGitEnv(t, work)
	admin, root, prom := filepath.Join(work, "admin"), filepath.Join(work, "root"), filepath.Join(work, "trail.prom")
	gittest.WriteFiles(t, root, map[string]string{
		"etc/passwd": "root:x:0:0:root:/root:/bin/sh\n",
		"etc/group":  "root:x:0:\n",
	})
	gittest.WriteFiles(t, admin, map[string]string{
		"site.hcl": "file \"/etc/reported.conf\" {\n  content = \"reported\\n\"\n}\n",
	})
	g.run(admin, "init", "-q")
	g.run(admin, "add", "-A")
	g.run(admin, "commit", "-q", "-m", "site")
	g.run(work, "clone", "-q", admin, "host")
	dir := filepath.Join(work, "host")
	g.trail(dir, "init", "--root", root, "--state", filepath.Join(work, "state"), "--metrics", prom, "--journal", "off")

	h, err := host.Open(dir, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	e, err := h.Engine()
	if err != nil {
		t.Fatal(err)
	}
	onDrift := watchReporter(h)
	// check is the watcher's drift check, and what it gives OnDrift.
	check := func() []apply.Drift {
		t.Helper()
		drift, err := e.Drift()
		if err != nil {
			t.Fatal(err)
		}
		return drift
	}
	target := filepath.Join(root, "etc/reported.conf")
	metric := func(want string) {
		t.Helper()
		data, err := os.ReadFile(prom)
		if err != nil || !strings.Contains(string(data), "\ntrail_drifted_targets "+want+"\n") {
			t.Fatalf("metrics file, want trail_drifted_targets %s: %v\n%s", want, err, data)
		}
	}

	if err := os.WriteFile(target, []byte("edited\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	drift := check()
	if err := os.WriteFile(target, []byte("reported\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	checks := host.DriftChecks()
	onDrift(drift)
	if n := host.DriftChecks() - checks; n != 0 {
		t.Fatalf("writing trail watch's metrics checked drift %d more time(s)", n)
	}
	metric("1")
	onDrift(check())
	if n := host.DriftChecks() - checks; n != 0 {
		t.Fatalf("writing trail watch's metrics checked drift %d more time(s)", n)
	}
	metric("0")
	if len(check()) != 0 {
		t.Fatal("the file put back still drifts")
	}
	// A status checks drift, and counts.
	if _, err := h.Status(); err != nil || host.DriftChecks()-checks != 1 {
		t.Fatalf("a status counted %d drift checks, want 1: %v", host.DriftChecks()-checks, err)
	}
}
