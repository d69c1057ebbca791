package host

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"trail/apply"
)

// Once a compile's contents are staged, an apply holds of it only the list
// and what the compiled cache saves: where each step came from, the
// contents and trees it read, and the config's sources are let go, and
// the list still applies.
func TestStagedCompileKeepsOnlyItsList(t *testing.T) {
	dir := testCheckout(t, "tree \"www\" {\n  path = \"/etc/www\"\n  source = \"www\"\n}\n")
	for i := 0; i < 20; i++ {
		p := filepath.Join(dir, "www", fmt.Sprintf("d%d/f%d", i%4, i))
		os.MkdirAll(filepath.Dir(p), 0o755)
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
	c, err := h.compileToApply("HEAD")
	if err != nil {
		t.Fatal(err)
	}
	// The tree's contents were stored as the compile read them: Refs
	// names none, and is let go with the rest once staged.
	if len(c.Origins) == 0 || c.Refs == nil || len(c.Files) == 0 {
		t.Fatalf("the compile kept %d origins, refs %v, %d files; want some origins and files, and refs", len(c.Origins), c.Refs, len(c.Files))
	}
	c.dropProvenance()
	if c.Origins != nil || c.Files != nil || c.Refs == nil {
		t.Fatalf("before staging the compile still holds %d origins and %d files, and refs %v", len(c.Origins), len(c.Files), c.Refs)
	}
	if err := h.stage(c); err != nil {
		t.Fatal(err)
	}
	steps := len(c.List.Steps)
	c.dropCompiled()
	if c.Origins != nil || c.Blobs != nil || c.Refs != nil || c.Trees != nil || c.Kept != nil || c.Files != nil {
		t.Fatalf("a dropped compile still holds %d origins, %d blobs, %d refs, %d trees, %d files",
			len(c.Origins), len(c.Blobs), c.Refs.Len(), len(c.Trees), len(c.Files))
	}
	if len(c.List.Steps) != steps || steps < 20 {
		t.Fatalf("the list has %d steps after the drop, %d before", len(c.List.Steps), steps)
	}
	e, err := h.Engine()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Apply(t.Context(), c.List, apply.Meta{Commit: c.Commit.Hash}); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if got, err := os.ReadFile(filepath.Join(h.Settings.root(), "etc/www/d3/f7")); err != nil || string(got) != "page 7\n" {
		t.Fatalf("d3/f7 = %q, %v", got, err)
	}
}
