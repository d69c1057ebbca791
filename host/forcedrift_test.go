package host

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// --force says of each drifted target what it saved: a content changed by
// hand went into the store, a mode changed by hand into the apply's undo
// image, and a directory removed with its file left nothing to save.
func TestForceSaysWhatItSaved(t *testing.T) {
	dir := testCheckout(t, `directory "/etc/app" {}
file "/etc/app/conf" {
  content = "conf\n"
}
directory "/etc/other" {}
file "/etc/motd" {
  content = "hello\n"
}
`)
	var out bytes.Buffer
	h := appliedHost(t, dir, &out)
	root := h.Settings.root()
	if err := os.RemoveAll(filepath.Join(root, "etc/app")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc/motd"), []byte("by hand\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(root, "etc/other"), 0o700); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if _, err := h.Apply(context.Background(), ApplyOptions{Force: true}); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for target, want := range map[string]string{
		"DIR /etc/app ":       "was removed by hand: nothing there to save",
		"FILE /etc/app/conf ": "was removed by hand: nothing there to save",
		"FILE /etc/motd ":     "was changed by hand: its content saved in the store before trail changed it",
		"DIR /etc/other ":     "was changed by hand: saved in this apply's undo record before trail changed it",
	} {
		line := ""
		for l := range strings.SplitSeq(out.String(), "\n") {
			if strings.HasPrefix(l, "  drift: "+target) {
				line = l
			}
		}
		if !strings.HasSuffix(line, want) {
			t.Errorf("the drift of %s reads %q, want it to end %q\n%s", target, line, want, out.String())
		}
	}
	if !strings.Contains(out.String(), "(4 found changed by hand: 2 saved first, 2 gone: nothing to save)") {
		t.Errorf("the summary does not say what was saved:\n%s", out.String())
	}
}
