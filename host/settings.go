package host

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	gitconfig "github.com/go-git/go-git/v5/plumbing/format/config"

	"trail/apply"
	"trail/internal/secret"
	"trail/report"
)

// Settings are a host's trail settings, kept in the checkout's git config
// as trail.root, trail.state, trail.metrics, trail.journal, trail.hostname,
// trail.locktimeout, trail.allowmassremoval, trail.keyring,
// trail.allowedsigners, trail.agekey, trail.var.NAME and trail.fact.NAME.
type Settings struct {
	// Root is the directory every target lives under ("/" on a real host).
	Root string
	// State is the state directory (apply.DefaultStateDir when empty).
	State string
	// Metrics is the node_exporter textfile; "off" writes none. When it is
	// empty, report.DefaultMetricsPath is written if its directory exists.
	Metrics string
	// Journal is the journald socket; "off" sends no structured records,
	// "stderr" writes them as logfmt to standard error. Empty means
	// journald when it runs, logfmt to standard error otherwise.
	Journal string
	// Hostname overrides the host name fact the config is compiled for.
	Hostname string
	// LockTimeout is how long an apply waits for another (default 5m).
	LockTimeout time.Duration
	// Vars override the config's root variables.
	Vars map[string]string
	// Facts override facts by name (compile.Facts.Set), for those the
	// root cannot tell, such as a --root image's CPUs.
	Facts map[string]string
	// AllowMassRemoval (trail.allowmassremoval) lets every apply remove more
	// than half of the managed targets, as --allow-mass-removal does once.
	AllowMassRemoval bool
	// Keyring (trail.keyring) is a file of armored OpenPGP public keys;
	// AllowedSigners (trail.allowedsigners) one of SSH keys in
	// ssh-keygen's allowed signers format. With either set, only a commit
	// signed by one of their keys is applied (verify.go).
	Keyring        string
	AllowedSigners string
	// AgeKey (trail.agekey) is the host's age key, which decrypts the
	// config's secret files; empty is /etc/trail/age.key under the root.
	AgeKey string
}

const defaultLockTimeout = 5 * time.Minute

// Checkout is a config checkout: its work tree and its git directory.
type Checkout struct {
	Dir    string // the work tree
	GitDir string // where HEAD and refs are
	Common string // where the shared refs and config are (worktrees)
}

// FindCheckout returns the checkout that holds dir, looking upwards for a
// .git directory or file as git does.
func FindCheckout(dir string) (*Checkout, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	for d := abs; ; d = filepath.Dir(d) {
		c, err := checkoutAt(d)
		if err == nil {
			return c, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		if filepath.Dir(d) == d {
			return nil, fmt.Errorf("%s is not in a git checkout: run trail in the config checkout, or pass -C DIR", abs)
		}
	}
}

func checkoutAt(dir string) (*Checkout, error) {
	dotgit := filepath.Join(dir, ".git")
	fi, err := os.Stat(dotgit)
	if err != nil {
		return nil, err
	}
	c := &Checkout{Dir: dir, GitDir: dotgit}
	if !fi.IsDir() {
		data, err := os.ReadFile(dotgit)
		if err != nil {
			return nil, err
		}
		p, ok := strings.CutPrefix(strings.TrimSpace(string(data)), "gitdir: ")
		if !ok {
			return nil, fmt.Errorf("%s: not a gitdir file", dotgit)
		}
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		c.GitDir = filepath.Clean(p)
	}
	c.Common = c.GitDir
	if data, err := os.ReadFile(filepath.Join(c.GitDir, "commondir")); err == nil {
		p := strings.TrimSpace(string(data))
		if !filepath.IsAbs(p) {
			p = filepath.Join(c.GitDir, p)
		}
		c.Common = filepath.Clean(p)
	}
	return c, nil
}

// LoadSettings reads the trail.* settings from the checkout's git config.
func LoadSettings(c *Checkout) (Settings, error) {
	s := Settings{LockTimeout: defaultLockTimeout}
	file := filepath.Join(c.Common, "config")
	data, err := os.ReadFile(file)
	if err != nil {
		return s, fmt.Errorf("settings: %w", err)
	}
	cfg := gitconfig.New()
	if err := gitconfig.NewDecoder(bytes.NewReader(data)).Decode(cfg); err != nil {
		return s, fmt.Errorf("settings: %s: %w", file, err)
	}
	sec := cfg.Section("trail")
	s.Root = sec.Option("root")
	s.State = sec.Option("state")
	s.Metrics = sec.Option("metrics")
	s.Journal = sec.Option("journal")
	s.Hostname = sec.Option("hostname")
	s.Keyring = sec.Option("keyring")
	s.AllowedSigners = sec.Option("allowedsigners")
	s.AgeKey = sec.Option("agekey")
	if v := sec.Option("locktimeout"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return s, fmt.Errorf("settings: %s: trail.locktimeout %q: want a duration such as 5m", file, v)
		}
		s.LockTimeout = d
	}
	if v := sec.Option("allowmassremoval"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return s, fmt.Errorf("settings: %s: trail.allowmassremoval %q: want true or false", file, v)
		}
		s.AllowMassRemoval = b
	}
	for _, sub := range sec.Subsections {
		dst := &s.Vars
		switch sub.Name {
		case "var":
		case "fact":
			dst = &s.Facts
		default:
			continue
		}
		for _, o := range sub.Options {
			if *dst == nil {
				*dst = map[string]string{}
			}
			(*dst)[o.Key] = o.Value
		}
	}
	return s, nil
}

// SaveSetting sets trail.KEY in the checkout's git config with git itself,
// so the file keeps git's own format and locking.
func SaveSetting(c *Checkout, key, value string) error {
	cmd := exec.Command("git", "config", "--file", filepath.Join(c.Common, "config"), "trail."+key, value)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("git config trail.%s: %w: %s", key, err, bytes.TrimSpace(out))
	}
	return nil
}

// root returns the root with the default filled in.
func (s Settings) root() string {
	if s.Root == "" {
		return "/"
	}
	return s.Root
}

// ageKey is the host's age key file: trail.agekey as given, or the
// default under the root.
func (s Settings) ageKey() string {
	if s.AgeKey != "" {
		return s.AgeKey
	}
	return filepath.Join(s.root(), filepath.FromSlash(secret.DefaultKey))
}

func (s Settings) state() string {
	if s.State == "" {
		return apply.DefaultStateDir
	}
	return s.State
}

// metricsPath returns where to write metrics, or "" for nowhere.
func (s Settings) metricsPath() string {
	switch s.Metrics {
	case "off":
		return ""
	case "":
		if _, err := os.Stat(filepath.Dir(report.DefaultMetricsPath)); err != nil {
			return ""
		}
		return report.DefaultMetricsPath
	}
	return s.Metrics
}
