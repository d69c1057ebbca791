package watch

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"trail/apply"
	"trail/stepfmt"
)

func TestFresh(t *testing.T) {
	d := func(target, now string) apply.Drift {
		return apply.Drift{ID: stepfmt.ID{Kind: stepfmt.KindFile, Target: target}, Policy: apply.PolicyReport,
			Now: apply.Image{State: "file", Attrs: []stepfmt.Attr{{Key: "content", Value: now}}}}
	}
	broken := d("/c", "x")
	broken.Err = errors.New("permission denied")
	for name, tc := range map[string]struct {
		prev, now []apply.Drift
		want      []string
	}{
		"first":           {nil, []apply.Drift{d("/a", "1")}, []string{"/a"}},
		"unchanged":       {[]apply.Drift{d("/a", "1")}, []apply.Drift{d("/a", "1")}, nil},
		"another":         {[]apply.Drift{d("/a", "1")}, []apply.Drift{d("/a", "1"), d("/b", "1")}, []string{"/b"}},
		"drifted further": {[]apply.Drift{d("/a", "1")}, []apply.Drift{d("/a", "2")}, []string{"/a"}},
		"healed":          {[]apply.Drift{d("/a", "1")}, nil, nil},
		"unreadable":      {[]apply.Drift{d("/c", "x")}, []apply.Drift{broken}, []string{"/c"}},
	} {
		t.Run(name, func(t *testing.T) {
			var got []string
			for _, x := range Fresh(tc.prev, tc.now) {
				got = append(got, x.ID.Target)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("Fresh = %q, want %q", got, tc.want)
			}
		})
	}
}

// A check that fails after READY is logged and shown, Run goes on, and
// the drift is reported again once checks work.
func TestLaterFailureIsSurvived(t *testing.T) {
	sb := newSandbox(t)
	sb.apply(t, "c1", appSteps)
	if err := os.Remove(sb.host("/etc/motd")); err != nil {
		t.Fatal(err)
	}
	r := start(t, sb, Options{Rescan: -1})
	r.waitReady(t)
	r.waitDrift(t, "motd missing", has("FILE /etc/motd"))
	file := filepath.Join(sb.state, "applied")
	good, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte("garbage\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r.waitStatus(t, "not an applied record")
	if !strings.Contains(strings.Join(r.log(), "\n"), "not an applied record") {
		t.Errorf("failure not logged: %q", r.log())
	}
	if err := os.WriteFile(file, good, 0o600); err != nil {
		t.Fatal(err)
	}
	r.waitDrift(t, "motd reported again", has("FILE /etc/motd"))
	r.waitStatus(t, "1 drifted")
}
