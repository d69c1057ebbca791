package host

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// The metrics an apply writes check drift only when the last drift check
// found some (the apply may have put it back) or none was made: an apply
// makes no target drift, and at 100,000 files the check is most of what
// the metrics cost. A target changed by hand after a check that found
// nothing is counted by the next status, and from then on by every apply
// until a check finds nothing again.
func TestApplyMetricsCheckDriftOnlyAfterDrift(t *testing.T) {
	site := func(a, b string) string {
		return "file \"/etc/a\" {\n  content = \"" + a + "\\n\"\n}\nfile \"/etc/b\" {\n  content = \"" + b + "\\n\"\n}\n"
	}
	dir := testCheckout(t, site("a1", "b1"))
	work := filepath.Dir(dir)
	prom := filepath.Join(work, "trail.prom")
	gitIn(t, dir, "config", "trail.metrics", prom)
	apply := func(msg string) {
		t.Helper()
		var out bytes.Buffer
		h, err := Open(dir, &out, &out)
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		if _, err := h.Apply(context.Background(), ApplyOptions{}); err != nil {
			t.Fatalf("%s: %v\n%s", msg, err, out.String())
		}
	}
	status := func() {
		t.Helper()
		var out bytes.Buffer
		h, err := Open(dir, &out, &out)
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		s, err := h.Status()
		if err != nil {
			t.Fatal(err)
		}
		h.WriteMetrics(s)
	}
	drifted := func(when, want string) {
		t.Helper()
		data, err := os.ReadFile(prom)
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`(?m)^trail_drifted_targets (\d+)$`).FindSubmatch(data)
		if m == nil || string(m[1]) != want {
			t.Fatalf("%s: metrics say %q drifted targets, want %s:\n%s", when, m, want, data)
		}
	}
	handEdit := func(name string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(work, "root", "etc", name), []byte("by hand\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// The first apply knows of no check: it checks, and finds nothing.
	apply("first apply")
	drifted("after the first apply", "0")
	if n, ok := (&Host{Settings: Settings{State: filepath.Join(work, "state")}}).lastDrifted(); !ok || n != 0 {
		t.Fatalf("after the first apply the last check is noted as %d, %v; want 0", n, ok)
	}

	// A hand edit after that check: the next apply does not look.
	handEdit("b")
	commitSite(t, dir, site("a2", "b1"), "a2")
	apply("a2")
	drifted("an apply after a check that found nothing", "0")

	// Status finds it; so does every apply after, until it is gone.
	status()
	drifted("status", "1")
	commitSite(t, dir, site("a3", "b1"), "a3")
	apply("a3")
	drifted("an apply after a check that found drift", "1")

	// An apply that puts the target back checks, and counts nothing.
	commitSite(t, dir, site("a3", "b2"), "b2")
	apply("b2")
	drifted("an apply that rewrote the drifted target", "0")
	handEdit("a")
	commitSite(t, dir, site("a3", "b3"), "b3")
	apply("b3")
	drifted("an apply after the check that found nothing again", "0")
}
