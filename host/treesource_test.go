package host

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An apply whose compile kept no repository paths (Options.NoRepoPaths)
// still places a step of a tree that fails on the machine at the tree
// block's lines, in the error and in the failure recorded.
func TestTreeStepFailureNamesBlock(t *testing.T) {
	g, _ := crashHost(t)
	root := strings.TrimSpace(g.Git("config", "trail.root"))
	os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("root:x:0:0:root:/root:/bin/sh\n"), 0o644)
	os.WriteFile(filepath.Join(root, "etc/group"), []byte("root:x:0:\n"), 0o644)
	// What the tree's file is to replace: a directory holding a file.
	if err := os.MkdirAll(filepath.Join(root, "srv/www/page/keep"), 0o755); err != nil {
		t.Fatal(err)
	}
	g.Write(map[string]string{
		"site.hcl":  "file \"/etc/motd\" {\n  content = \"hi\\n\"\n}\n\ntree \"www\" {\n  path = \"/srv/www\"\n  source = \"www\"\n}\n",
		"www/index": "hello\n",
		"www/page":  "a page\n",
	})
	commit := g.Commit("tree")
	h, _ := openHost(t, g.Dir)
	err := h.Hook(context.Background(), "post-merge", nil)
	if err == nil || !strings.HasPrefix(err.Error(), "site.hcl:5: FILE /srv/www/page: ") {
		t.Fatalf("hook: %v; want the failure placed at site.hcl:5, the tree block, on FILE /srv/www/page", err)
	}
	r, _ := h.loadRecord()
	if r.Failure == nil || r.Failure.Commit != commit || r.Failure.Source != "site.hcl:5-8" || r.Failure.Step != "FILE /srv/www/page" {
		t.Fatalf("failure recorded: %+v", r.Failure)
	}
}
