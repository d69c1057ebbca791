package host

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	"trail/hooks"
)

// InitOptions are the settings `trail init` stores, and what else it does.
type InitOptions struct {
	Settings map[string]string // trail.KEY values to store; "" values are skipped
	Trail    string            // the binary the hooks run; "" is Executable()
	Systemd  string            // "", "watch" or "timer": install and enable units
	NoApply  bool
}

// Init makes the checkout holding dir drive trail: it stores the settings,
// installs the git hooks (chaining any already there), optionally installs
// the systemd units, and applies HEAD once.
func Init(ctx context.Context, dir string, o InitOptions, out, errw io.Writer) (*Outcome, error) {
	c, err := FindCheckout(dir)
	if err != nil {
		return nil, err
	}
	for _, k := range []string{"root", "state", "metrics", "journal", "hostname"} {
		v := o.Settings[k]
		if v != "" && (k == "root" || k == "state" || (k == "metrics" && v != "off")) {
			// Hooks run in the checkout, the timer wherever: store paths whole.
			if v, err = filepath.Abs(v); err != nil {
				return nil, err
			}
		}
		if v != "" {
			if err := SaveSetting(c, k, v); err != nil {
				return nil, err
			}
		}
	}
	bin := o.Trail
	if bin == "" {
		if bin, err = Executable(); err != nil {
			return nil, err
		}
	}
	if err := hooks.Install(c.Dir, bin); err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "trail: hooks installed in %s: git pull and git checkout now apply\n", c.Dir)
	h, err := Open(c.Dir, out, errw)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	if o.Systemd != "" {
		if err := h.InstallUnits(ctx, o.Systemd, bin); err != nil {
			return nil, err
		}
	}
	if o.NoApply {
		return nil, nil
	}
	return h.Apply(ctx, ApplyOptions{})
}

// Executable is the trail binary hooks and units run: the one running now,
// by the name it was started as when that is a path, so that a symlink
// such as /usr/local/bin/trail stays what hooks call.
func Executable() (string, error) {
	if p, err := exec.LookPath(os.Args[0]); err == nil {
		if abs, err := filepath.Abs(p); err == nil {
			return abs, nil
		}
	}
	return os.Executable()
}
