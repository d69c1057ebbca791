package host

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// The applied line states the process's time, start-up and compile
// included, for the first apply of a process, and each later apply's own.
func TestAppliedLineCountsFromProcessStart(t *testing.T) {
	dir := testCheckout(t, "file \"/etc/motd\" {\n  content = \"hi\\n\"\n}\n")
	saved := processStart
	t.Cleanup(func() { processStart = saved })
	processStart = time.Now().Add(-time.Hour)
	processStartTaken.Store(false)

	took := func() time.Duration {
		t.Helper()
		var out bytes.Buffer
		h, err := Open(dir, &out, &out)
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		if _, err := h.Apply(context.Background(), ApplyOptions{}); err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`as generation \d+ in (\S+):`).FindStringSubmatch(out.String())
		if m == nil {
			t.Fatalf("no applied line in:\n%s", out.String())
		}
		d, err := time.ParseDuration(m[1])
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if d := took(); d < time.Hour {
		t.Errorf("first apply of the process states %v: want its time from the process's start (an hour ago here)", d)
	}
	commitSite(t, dir, "file \"/etc/motd\" {\n  content = \"hello\\n\"\n}\n", "second")
	if d := took(); d >= time.Hour {
		t.Errorf("second apply of the process states %v: want its own time, not the process's", d)
	}
}

// An apply stores a tree's contents in batches, read again from git
// objects rather than held: every file of a tree bigger than a batch
// arrives with its content.
func TestApplyTreeInBatches(t *testing.T) {
	dir := testCheckout(t, "tree \"www\" {\n  path = \"/etc/www\"\n  source = \"www\"\n}\n")
	n := stageBatch + 100
	for i := 0; i < n; i++ {
		p := filepath.Join(dir, "www", fmt.Sprintf("d%d", i/100), fmt.Sprintf("f%d", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(fmt.Sprintf("page %d\n", i)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gitIn(t, dir, "add", "-A")
	gitIn(t, dir, "commit", "-q", "-m", "tree")
	var out bytes.Buffer
	h, err := Open(dir, &out, &out)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if _, err := h.Apply(context.Background(), ApplyOptions{}); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	root := h.Settings.root()
	for i := 0; i < n; i++ {
		got, err := os.ReadFile(filepath.Join(root, "etc/www", fmt.Sprintf("d%d", i/100), fmt.Sprintf("f%d", i)))
		if want := fmt.Sprintf("page %d\n", i); err != nil || string(got) != want {
			t.Fatalf("file %d: %q, %v; want %q", i, got, err, want)
		}
	}
}
