package host

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A --force that reads again from the commit the content of a drifted
// target the store lost stages that content alone, not every other the
// store lacks, and says the compile's warnings once.
func TestForceFetchStagesWhatItNeeds(t *testing.T) {
	dir := testCheckout(t, "tree \"www\" {\n  path = \"/etc/www\"\n  source = \"www\"\n}\n")
	if err := os.MkdirAll(filepath.Join(dir, "www"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "www/page"), []byte("page\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "www/other"), []byte("other\n"), 0o644)
	gitIn(t, dir, "add", "-A")
	gitIn(t, dir, "commit", "-q", "-m", "www")
	gitIn(t, dir, "config", "trail.var.undeclared", "x")
	var out bytes.Buffer
	h := appliedHost(t, dir, &out)
	e, err := h.Engine()
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{}
	c, err := h.compileToApply("HEAD")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range c.List.Steps {
		keys[s.Target] = s.Value("content")
	}
	for _, f := range []string{"/etc/www/page", "/etc/www/other"} {
		if err := os.Remove(e.Store().Path(keys[f])); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(h.Settings.root(), "etc/www/page"), []byte("by hand\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if _, err := h.Apply(context.Background(), ApplyOptions{Force: true}); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !e.Store().Has(keys["/etc/www/page"]) {
		t.Fatal("the drifted page's content was not read again")
	}
	if e.Store().Has(keys["/etc/www/other"]) {
		t.Error("the content of a target that did not drift was staged again")
	}
	if n := strings.Count(out.String(), "Undeclared host variable"); n != 1 {
		t.Errorf("the warning is said %d times, want once:\n%s", n, out.String())
	}

	// With the trees cache lost too, the compile reads the tree's
	// contents from git, and stores the one needed as it reads it.
	if err := os.Remove(h.treesPath()); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(e.Store().Path(keys["/etc/www/page"])); err != nil {
		t.Fatal(err)
	}
	time.Sleep(60 * time.Millisecond) // past the drift index's racy window
	if err := os.WriteFile(filepath.Join(h.Settings.root(), "etc/www/page"), []byte("by hand again\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if _, err := h.Apply(context.Background(), ApplyOptions{Force: true}); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !e.Store().Has(keys["/etc/www/page"]) || e.Store().Has(keys["/etc/www/other"]) {
		t.Errorf("without the trees cache: page stored %v, other stored %v; want only the page", e.Store().Has(keys["/etc/www/page"]), e.Store().Has(keys["/etc/www/other"]))
	}

}
