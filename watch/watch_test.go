package watch

import (
	"os"
	"slices"
	"testing"
	"time"

	"trail/apply"
)

const appSteps = `DIR /srv/app
FILE /srv/app/conf {v=1}
FILE /srv/app/other {other} mode=0644
LINK /srv/app/current conf
FILE /etc/motd {hello}`

// Each hand change is seen through inotify alone: the rescan is off, so
// nothing else could find it.
func TestSeesHandChanges(t *testing.T) {
	for name, tc := range map[string]struct {
		change func(t *testing.T, sb *sandbox)
		target string
		what   string
	}{
		"edit in place": {func(t *testing.T, sb *sandbox) {
			f, err := os.OpenFile(sb.host("/srv/app/conf"), os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString("v=2\n")
			f.Close()
		}, "FILE /srv/app/conf", "content"},
		"delete": {func(t *testing.T, sb *sandbox) {
			if err := os.Remove(sb.host("/etc/motd")); err != nil {
				t.Fatal(err)
			}
		}, "FILE /etc/motd", "state"},
		"rename over": {func(t *testing.T, sb *sandbox) {
			tmp := sb.host("/srv/app/.conf.swp")
			if err := os.WriteFile(tmp, []byte("v=3\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(tmp, sb.host("/srv/app/conf")); err != nil {
				t.Fatal(err)
			}
		}, "FILE /srv/app/conf", "content"},
		"chmod": {func(t *testing.T, sb *sandbox) {
			if err := os.Chmod(sb.host("/srv/app/other"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, "FILE /srv/app/other", "mode"},
		"relink": {func(t *testing.T, sb *sandbox) {
			os.Remove(sb.host("/srv/app/current"))
			if err := os.Symlink("other", sb.host("/srv/app/current")); err != nil {
				t.Fatal(err)
			}
		}, "LINK /srv/app/current", "to"},
		"directory removed": {func(t *testing.T, sb *sandbox) {
			if err := os.RemoveAll(sb.host("/srv/app")); err != nil {
				t.Fatal(err)
			}
		}, "DIR /srv/app", "state"},
	} {
		t.Run(name, func(t *testing.T) {
			sb := newSandbox(t)
			sb.apply(t, "c1", appSteps)
			r := start(t, sb, Options{Rescan: -1})
			r.waitReady(t)
			r.waitDrift(t, "the first check is clean", none)
			at := time.Now()
			tc.change(t, sb)
			d := r.waitDrift(t, tc.target+" drifted", has(tc.target))
			t.Logf("%s seen after %v", tc.target, time.Since(at))
			i := slices.IndexFunc(d, func(x apply.Drift) bool { return x.ID.String() == tc.target })
			if !slices.Contains(d[i].Changed, tc.what) {
				t.Errorf("%s changed %v, want %s among them", tc.target, d[i].Changed, tc.what)
			}
		})
	}
}

func TestHealPutsBack(t *testing.T) {
	sb := newSandbox(t)
	sb.apply(t, "c1", `DIR /srv/app
FILE /srv/app/conf {v=1} drift=heal
FILE /srv/app/loose {loose}`)
	r := start(t, sb, Options{Rescan: -1})
	r.waitReady(t)
	r.waitDrift(t, "the first check is clean", none)
	if err := os.WriteFile(sb.host("/srv/app/conf"), []byte("hacked"), 0o644); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(wait)
	for sb.read(t, "/srv/app/conf") != "v=1" {
		if time.Now().After(deadline) {
			t.Fatalf("conf not healed: %q; log: %q", sb.read(t, "/srv/app/conf"), r.log())
		}
		time.Sleep(10 * time.Millisecond)
	}
	// A heal is a generation of the same commit; the watcher follows it.
	r.waitStatus(t, "generation 2, 0 drifted")
	gens, err := sb.e.Generations()
	if err != nil {
		t.Fatal(err)
	}
	if gens[0].Commit != "c1" || gens[0].Counts.Modified != 1 {
		t.Errorf("heal generation: commit %q, %d modified; want c1 and 1", gens[0].Commit, gens[0].Counts.Modified)
	}
	// A report-policy target next to it is reported, not healed.
	if err := os.WriteFile(sb.host("/srv/app/loose"), []byte("changed"), 0o644); err != nil {
		t.Fatal(err)
	}
	r.waitDrift(t, "loose drifted", has("FILE /srv/app/loose"))
	if got := sb.read(t, "/srv/app/loose"); got != "changed" {
		t.Errorf("report-policy file was rewritten to %q", got)
	}
}

func TestIgnoreIsNotReported(t *testing.T) {
	sb := newSandbox(t)
	sb.apply(t, "c1", `DIR /srv/app
FILE /srv/app/free {v=1} drift=ignore
FILE /srv/app/conf {v=1}`)
	r := start(t, sb, Options{Rescan: -1})
	r.waitReady(t)
	r.waitDrift(t, "the first check is clean", none)
	for _, f := range []string{"/srv/app/free", "/srv/app/conf"} {
		if err := os.WriteFile(sb.host(f), []byte("changed"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	d := r.waitDrift(t, "conf drifted", has("FILE /srv/app/conf"))
	if slices.Contains(targets(d), "FILE /srv/app/free") {
		t.Errorf("ignored target reported: %v", targets(d))
	}
	// It did drift: the policy, not the watcher's eyes, kept it out.
	all, err := sb.open(t).Drift()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(targets(all), "FILE /srv/app/free") {
		t.Fatalf("the ignored file did not drift, the test proves nothing: %v", targets(all))
	}
	if got := sb.read(t, "/srv/app/free"); got != "changed" {
		t.Errorf("ignored file was rewritten to %q", got)
	}
}
