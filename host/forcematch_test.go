package host

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"trail/apply/state"
)

// A --force of the applied commit compares the machine with the applied
// record without reading its list (apply's ForceMatches): nothing drifted
// is the no-op, no generation made; and each drift it finds (content,
// mode, a missing file, a missing directory) goes to the list's apply,
// which puts it back, as before.
func TestForceFindsEveryDrift(t *testing.T) {
	dir := testCheckout(t, "tree \"www\" {\n  path = \"/etc/www\"\n  source = \"www\"\n}\n")
	if err := os.MkdirAll(filepath.Join(dir, "www/d"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "www/d/page"), []byte("one\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "www/d/other"), []byte("other\n"), 0o644)
	gitIn(t, dir, "add", "-A")
	gitIn(t, dir, "commit", "-q", "-m", "www")
	var out bytes.Buffer
	h := appliedHost(t, dir, &out)
	e, _ := h.Engine()
	root := h.Settings.root()
	page, other, d := filepath.Join(root, "etc/www/d/page"), filepath.Join(root, "etc/www/d/other"), filepath.Join(root, "etc/www/d")
	matched := func() {
		t.Helper()
		cur, _ := e.Current()
		o, err := h.Apply(context.Background(), ApplyOptions{Force: true})
		if err != nil || !o.Matched {
			t.Fatalf("a --force with nothing drifted: %+v, %v\n%s", o, err, out.String())
		}
		if now, _ := e.Current(); now.Number != cur.Number {
			t.Fatalf("a --force with nothing drifted made generation %d", now.Number)
		}
	}
	time.Sleep(2 * state.RacyWindow)
	matched()
	matched()

	os.WriteFile(page, []byte("ONE\n"), 0o644)
	forceHeals(t, h, &out, page, "one\n")
	matched()

	os.Chmod(page, 0o600)
	forceHeals(t, h, &out, page, "one\n")
	if st, err := os.Stat(page); err != nil || st.Mode().Perm() != 0o644 {
		t.Fatalf("after --force the page's mode is %v (%v), want 0644", st.Mode().Perm(), err)
	}
	matched()

	os.Remove(other)
	forceHeals(t, h, &out, other, "other\n")
	matched()

	os.RemoveAll(d)
	o, err := h.Apply(context.Background(), ApplyOptions{Force: true})
	if err != nil || o.Matched {
		t.Fatalf("a --force with a directory gone: %+v, %v\n%s", o, err, out.String())
	}
	for f, want := range map[string]string{page: "one\n", other: "other\n"} {
		if got, _ := os.ReadFile(f); string(got) != want {
			t.Fatalf("after --force %s holds %q, want %q", f, got, want)
		}
	}
	matched()
}
