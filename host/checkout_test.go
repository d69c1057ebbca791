package host

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"trail/gitrepo/gittest"
)

const hashB = "89abcdef0123456789abcdef0123456789abcdef"

// gitDir lays out a git directory from files (path → content).
func gitDir(t testing.TB, files map[string]string) *Checkout {
	dir := t.TempDir()
	gittest.WriteFiles(t, dir, files)
	return &Checkout{Dir: dir, GitDir: dir, Common: dir}
}

func TestFindCheckoutWorktree(t *testing.T) {
	top := t.TempDir()
	main := filepath.Join(top, "main", ".git")
	wt := filepath.Join(main, "worktrees", "canary")
	for p, data := range map[string]string{
		filepath.Join(main, "refs/heads/canary"): hashB,
		filepath.Join(main, "config"):            "[trail]\n\troot = /srv/root\n",
		filepath.Join(wt, "HEAD"):                "ref: refs/heads/canary\n",
		filepath.Join(wt, "commondir"):           "../..\n",
		filepath.Join(top, "canary", ".git"):     "gitdir: " + wt + "\n",
	} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sub := filepath.Join(top, "canary", "deep", "er")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	c, err := FindCheckout(sub)
	if err != nil {
		t.Fatal(err)
	}
	if c.Dir != filepath.Join(top, "canary") || c.GitDir != wt || c.Common != main {
		t.Fatalf("checkout %+v", c)
	}
	h, err := c.ReadHead()
	if err != nil || h != (Head{Commit: hashB, Branch: "canary"}) {
		t.Fatalf("head %+v, %v", h, err)
	}
	s, err := LoadSettings(c)
	if err != nil || s.Root != "/srv/root" {
		t.Fatalf("settings %+v, %v", s, err)
	}
	if _, err := FindCheckout(t.TempDir()); err == nil || !strings.Contains(err.Error(), "not in a git checkout") {
		t.Fatalf("outside a checkout: %v", err)
	}
}

func TestLoadSettingsErrors(t *testing.T) {
	tests := map[string]struct{ config, want string }{
		"bad lock timeout": {"[trail]\n\tlocktimeout = soon\n", "trail.locktimeout"},
		"bad mass removal": {"[trail]\n\tallowmassremoval = maybe\n", "trail.allowmassremoval"},
		"bad syntax":       {"[trail\n", "config"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c := gitDir(t, map[string]string{"config": tc.config})
			if _, err := LoadSettings(c); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one naming %q", err, tc.want)
			}
		})
	}
	c := gitDir(t, map[string]string{"config": "[trail]\n\troot = /r\n\tlocktimeout = 2s\n\tallowmassremoval = true\n[trail \"var\"]\n\taccounts = true\n[trail \"fact\"]\n\tcpus = 4\n"})
	s, err := LoadSettings(c)
	if err != nil || s.Root != "/r" || s.LockTimeout.String() != "2s" || !s.AllowMassRemoval || s.Vars["accounts"] != "true" || s.Facts["cpus"] != "4" {
		t.Fatalf("settings %+v, %v", s, err)
	}
}

// trail.fact settings are set over the facts the root gives, and a bad
// one names its setting.
func TestHostFactSettings(t *testing.T) {
	h := &Host{Settings: Settings{Root: t.TempDir(), Facts: map[string]string{"cpus": "4", "default_interface": "eth0"}}}
	f, err := h.Facts()
	if err != nil || f.CPUs != 4 || f.DefaultInterface != "eth0" || !f.Value().GetAttr("cpus").IsKnown() {
		t.Fatalf("facts %+v, %v", f, err)
	}
	h.Settings.Facts["cpus"] = "many"
	if _, err := h.Facts(); err == nil || !strings.Contains(err.Error(), "trail.fact.cpus") {
		t.Fatalf("bad trail.fact.cpus: %v", err)
	}
}
