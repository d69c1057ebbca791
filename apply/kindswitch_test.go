package apply

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A path that was an empty directory before trail, managed in turn as a
// file, a symlink and a directory: each removed step gives the directory
// back before the next kind replaces it, within one plan. Every apply
// must succeed and leave the root as a fresh apply of its list would.
func TestEmptyDirectoryChangesKind(t *testing.T) {
	lists := map[string]string{
		"file":  "FILE /srv/e {f} mode=0600",
		"link":  "LINK /srv/e /target",
		"dir":   "DIR /srv/e mode=0700\nFILE /srv/e/in {in}",
		"file2": "FILE /srv/e {g}",
	}
	for _, order := range [][]string{
		{"file", "link"},
		{"link", "file"},
		{"file", "link", "file2"},
		{"link", "dir", "link", "file"},
		{"dir", "file", "dir", "link"},
	} {
		t.Run(strings.Join(order, "-"), func(t *testing.T) {
			sb := newSandbox(t)
			sb.opts.AllowMassRemoval = true
			sb.open()
			if err := os.Mkdir(sb.host("/srv/e"), 0o750); err != nil {
				t.Fatal(err)
			}
			start := snapshot(t, sb.root)
			for i, name := range order {
				sb.apply(lists[name], fmt.Sprint("c", i))
				if got, want := snapshot(t, sb.root), freshApply(t, lists[name]); got != want {
					t.Fatalf("after %s the root differs from a fresh apply:\n%s", name, lineDiff(want, got))
				}
			}
			sb.apply("", "end")
			if got := snapshot(t, sb.root); got != start {
				t.Fatalf("after removing everything the root differs from the start:\n%s", lineDiff(start, got))
			}
		})
	}
}

// freshApply applies list onto a new sandbox whose /srv/e is an empty
// directory and returns the snapshot of its root.
func freshApply(t *testing.T, list string) string {
	t.Helper()
	sb := newSandbox(t)
	if err := os.Mkdir(filepath.Join(sb.root, "srv/e"), 0o750); err != nil {
		t.Fatal(err)
	}
	sb.apply(list, "fresh")
	return snapshot(t, sb.root)
}
