package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// The config the fleet runs, in three commits: a release file and a
// check; a canary commit whose check fails; the fix.
const (
	configV1 = `directory "/etc/fleet" {}

file "/etc/fleet/release" {
  content = "release 1\n"
}

check "release" {
  run = "grep -q 'release' etc/fleet/release"
}
`
	configCanary = `directory "/etc/fleet" {}

file "/etc/fleet/release" {
  content = "release 2\n"
}

# Wrong: release 2 ships no etc/fleet/ready.
check "release" {
  run = "test -f etc/fleet/ready"
}
`
	configFixed = `directory "/etc/fleet" {}

file "/etc/fleet/release" {
  content = "release 2\n"
}

file "/etc/fleet/ready" {
  content = "yes\n"
}

check "release" {
  run = "test -f etc/fleet/ready && grep -q 'release 2' etc/fleet/release"
}
`
)

// canaries is how many hosts track the canary branch.
const canaries = 2

func (r *rig) scenario(ctx context.Context, n int) error {
	if err := r.gitEnv(); err != nil {
		return err
	}
	origin := filepath.Join(r.dir, "origin.git")
	admin := filepath.Join(r.dir, "admin")
	if _, err := r.sh(ctx, r.dir, "git", "init", "-q", "--bare", "-b", "main", origin); err != nil {
		return err
	}
	if _, err := r.sh(ctx, r.dir, "git", "clone", "-q", origin, admin); err != nil {
		return err
	}
	c1, err := r.commit(ctx, admin, configV1, "release 1")
	if err != nil {
		return err
	}
	if _, err := r.sh(ctx, admin, "git", "push", "-q", "origin", "main", "main:canary"); err != nil {
		return err
	}

	say("%d hosts: checkouts, trail init, node exporters", n)
	for i := 1; i <= n; i++ {
		h := &host{name: fmt.Sprintf("h%02d", i), branch: "main"}
		if i <= canaries {
			h.branch = "canary"
		}
		base := filepath.Join(r.dir, h.name)
		h.checkout, h.root, h.state, h.textfileDir = filepath.Join(base, "checkout"), filepath.Join(base, "root"),
			filepath.Join(base, "state"), filepath.Join(base, "textfile")
		for _, d := range []string{filepath.Join(h.root, "etc"), h.textfileDir} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return err
			}
		}
		// The accounts the config's owners (root) resolve in.
		for name, line := range map[string]string{"passwd": "root:x:0:0:root:/root:/bin/sh\n", "group": "root:x:0:\n"} {
			if err := os.WriteFile(filepath.Join(h.root, "etc", name), []byte(line), 0o644); err != nil {
				return err
			}
		}
		if _, err := r.sh(ctx, base, "git", "clone", "-q", "-b", h.branch, origin, h.checkout); err != nil {
			return err
		}
		if _, err := r.sh(ctx, h.checkout, r.trail, "init", "--root", h.root, "--state", h.state,
			"--metrics", filepath.Join(h.textfileDir, "trail.prom"), "--journal", "off", "--hostname", h.name); err != nil {
			return err
		}
		if err := r.startExporter(ctx, h); err != nil {
			return err
		}
		r.hosts = append(r.hosts, h)
	}
	say("prometheus with docs/alerts.yml, scraping %d exporters", n)
	if err := r.startPrometheus(ctx); err != nil {
		return err
	}

	r.check(fmt.Sprintf("all %d exporters are scraped", n), r.count(ctx, `count(up{job="trail"} == 1)`, n))
	r.check(fmt.Sprintf("%d/%d hosts on the first commit", n, n), r.rollout(ctx, c1, n))

	// The canary: a commit whose check fails reaches the canary branch.
	say("canary: a commit whose check fails, pulled by %d hosts", canaries)
	if _, err := r.sh(ctx, admin, "git", "checkout", "-q", "-b", "canary", "origin/canary"); err != nil {
		return err
	}
	bad, err := r.commit(ctx, admin, configCanary, "release 2 (check expects a file nobody ships)")
	if err != nil {
		return err
	}
	if _, err := r.sh(ctx, admin, "git", "push", "-q", "origin", "canary"); err != nil {
		return err
	}
	for _, h := range r.hosts {
		// The hosts' timer: trail pull. Canary hosts take the commit, its
		// check fails, and they roll back to the first commit.
		if _, _, err := r.exitCode(ctx, h.checkout, r.trail, "pull"); err != nil {
			return err
		}
	}
	var canaryHosts []string
	for _, h := range r.hosts[:canaries] {
		canaryHosts = append(canaryHosts, h.name)
		r.check(h.name+" rolled back to release 1 after the failed check", r.fileIs(h, "etc/fleet/release", "release 1\n"))
		code, out, err := r.exitCode(ctx, h.checkout, r.trail, "status")
		if err == nil && (code != 2 || !strings.Contains(out, bad[:12])) {
			err = fmt.Errorf("trail status exited %d, want 2 (CRITICAL) naming %s:\n%s", code, bad[:12], out)
		}
		r.check(h.name+" trail status is CRITICAL about the canary commit", err)
	}
	r.check("TrailApplyFailed fires for the canary hosts, and only them",
		r.hostsAre(ctx, `ALERTS{alertname="TrailApplyFailed",alertstate="firing"}`, canaryHosts))
	r.check("every host still runs the first commit, the canaries rolled back to it",
		r.hostsAre(ctx, fmt.Sprintf(`trail_applied_info{commit=%q}`, c1), names(r.hosts)))

	// The fix, merged to main; canary follows main again.
	say("the fix merged to main; every host pulls")
	if _, err := r.sh(ctx, admin, "git", "checkout", "-q", "main"); err != nil {
		return err
	}
	if _, err := r.sh(ctx, admin, "git", "merge", "-q", "--ff-only", "canary"); err != nil {
		return err
	}
	fixed, err := r.commit(ctx, admin, configFixed, "release 2: ship etc/fleet/ready")
	if err != nil {
		return err
	}
	if _, err := r.sh(ctx, admin, "git", "push", "-q", "origin", "main", "main:canary"); err != nil {
		return err
	}
	for _, h := range r.hosts {
		if _, err := r.sh(ctx, h.checkout, r.trail, "pull"); err != nil {
			return err
		}
	}
	r.check(fmt.Sprintf("one query shows %d/%d hosts on the fix", n, n), r.rollout(ctx, fixed, n))
	r.check("TrailApplyFailed is resolved",
		r.hostsAre(ctx, `ALERTS{alertname="TrailApplyFailed",alertstate="firing"}`, nil))
	var fileErr error
	for _, h := range r.hosts {
		if err := r.fileIs(h, "etc/fleet/release", "release 2\n"); err != nil && fileErr == nil {
			fileErr = err
		}
	}
	r.check("every host's root has release 2", fileErr)

	// A pin: one host is held at the first commit.
	pinned := r.hosts[canaries]
	say("%s pinned at the first commit", pinned.name)
	if _, err := r.sh(ctx, pinned.checkout, "git", "checkout", "-q", c1); err != nil {
		return err
	}
	code, out, err := r.exitCode(ctx, pinned.checkout, r.trail, "status")
	if err == nil && !strings.Contains(out, "pinned") {
		err = fmt.Errorf("trail status (exit %d) does not say pinned:\n%s", code, out)
	}
	r.check(pinned.name+" trail status says pinned", err)
	r.check(pinned.name+" shows as pinned", r.hostsAre(ctx, `trail_pinned == 1`, []string{pinned.name}))
	r.check(pinned.name+" is pinned at the first commit",
		r.hostsAre(ctx, fmt.Sprintf(`trail_pinned == 1 and on (instance) trail_applied_info{commit=%q}`, c1), []string{pinned.name}))
	r.check(fmt.Sprintf("%d/%d hosts on the fix, the pinned one not", n-1, n),
		r.count(ctx, fmt.Sprintf(`count(trail_applied_info{commit=%q})`, fixed), n-1))

	r.check("every query of docs/grafana-dashboard.json runs on the fleet's data", r.dashboard(ctx))
	if r.shot != "" {
		r.check("the dashboard's panels pictured in "+r.shot, r.picture(ctx, r.shot))
	}
	return nil
}

// gitEnv gives git (and the hooks trail runs) a private identity and
// config, nothing of this machine's.
func (r *rig) gitEnv() error {
	home := filepath.Join(r.dir, "home")
	if err := os.MkdirAll(home, 0o755); err != nil {
		return err
	}
	cfg := filepath.Join(home, ".gitconfig")
	data := "[user]\n\tname = Fleet Admin\n\temail = admin@example.org\n[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n[pull]\n\tff = only\n"
	if err := os.WriteFile(cfg, []byte(data), 0o644); err != nil {
		return err
	}
	for k, v := range map[string]string{"HOME": home, "GIT_CONFIG_GLOBAL": cfg, "GIT_CONFIG_NOSYSTEM": "1"} {
		if err := os.Setenv(k, v); err != nil {
			return err
		}
	}
	return nil
}

// commit writes main.hcl in the admin's clone, commits it and returns the
// commit's hash.
func (r *rig) commit(ctx context.Context, admin, config, msg string) (string, error) {
	if err := os.WriteFile(filepath.Join(admin, "main.hcl"), []byte(config), 0o644); err != nil {
		return "", err
	}
	if _, err := r.sh(ctx, admin, "git", "add", "main.hcl"); err != nil {
		return "", err
	}
	if _, err := r.sh(ctx, admin, "git", "commit", "-q", "-m", msg); err != nil {
		return "", err
	}
	out, err := r.sh(ctx, admin, "git", "rev-parse", "HEAD")
	return strings.TrimSpace(out), err
}

// rollout is the fleet view: hosts per commit, which must be want hosts
// on commit and no other commit.
func (r *rig) rollout(ctx context.Context, commit string, want int) error {
	_, err := r.await(ctx, `count by (commit) (trail_applied_info)`, func(s []sample) error {
		if len(s) != 1 || s[0].Metric["commit"] != commit || s[0].value() != fmt.Sprint(want) {
			return fmt.Errorf("want one series, commit %s with %d hosts", commit, want)
		}
		return nil
	})
	return err
}

// count waits until a query's single value is want.
func (r *rig) count(ctx context.Context, q string, want int) error {
	_, err := r.await(ctx, q, func(s []sample) error {
		if len(s) != 1 || s[0].value() != fmt.Sprint(want) {
			return fmt.Errorf("want %d", want)
		}
		return nil
	})
	return err
}

// hostsAre waits until a query's series are exactly the given hosts.
func (r *rig) hostsAre(ctx context.Context, q string, want []string) error {
	want = slices.Sorted(slices.Values(want))
	_, err := r.await(ctx, q, func(s []sample) error {
		if got := hostsOf(s); !slices.Equal(got, want) {
			return fmt.Errorf("want hosts %v, have %v", want, got)
		}
		return nil
	})
	return err
}

func (r *rig) fileIs(h *host, path, want string) error {
	data, err := os.ReadFile(filepath.Join(h.root, path))
	if err != nil {
		return err
	}
	if string(data) != want {
		return fmt.Errorf("%s: /%s holds %q, want %q", h.name, path, data, want)
	}
	return nil
}

func names(hs []*host) []string {
	var out []string
	for _, h := range hs {
		out = append(out, h.name)
	}
	return out
}

// dashboard runs every panel query of the shipped dashboard: each must be
// valid PromQL that Prometheus answers, and the rollout panel must show
// the two commits the fleet runs.
func (r *rig) dashboard(ctx context.Context) error {
	_, queries, err := loadDashboard(filepath.Join(r.top, "docs", "grafana-dashboard.json"))
	if err != nil {
		return err
	}
	for _, q := range queries {
		s, err := r.query(ctx, q.expr)
		if err != nil {
			return fmt.Errorf("panel %q: %w", q.panel, err)
		}
		if strings.HasPrefix(q.expr, "count by (branch, commit)") && len(s) < 2 {
			return fmt.Errorf("panel %q shows %s, want the fix and the pinned commit", q.panel, show(s))
		}
		if strings.Contains(q.expr, "(trail_pinned == 1)") && len(s) != 1 {
			return fmt.Errorf("panel %q shows %s, want the one pinned host", q.panel, show(s))
		}
	}
	return nil
}
