package host

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"trail/dist"
	"trail/internal/atomicfile"
)

// InstallUnits writes the shipped units into the root's /etc/systemd/system,
// with a drop-in per service that points it at this checkout and binary,
// and enables them: mode "watch" the trail-watch daemon (which also pulls
// on an interval), mode "timer" only trail-pull.timer. On the real root
// with systemd running they are started too; in another root they are only
// enabled, as systemctl --root can.
func (h *Host) InstallUnits(ctx context.Context, mode, bin string) error {
	var enable []string
	switch mode {
	case "watch":
		enable = []string{"trail-watch.service"}
	case "timer":
		enable = []string{"trail-pull.timer"}
	default:
		return fmt.Errorf("--systemd %q: want watch (the drift watcher, which also pulls) or timer (a pull every 15 minutes, no daemon)", mode)
	}
	dir := filepath.Join(h.Settings.root(), "etc/systemd/system")
	for _, name := range dist.Names {
		data, err := dist.Units.ReadFile(name)
		if err != nil {
			return err
		}
		if err := writeFile(filepath.Join(dir, name), data); err != nil {
			return err
		}
		if !strings.HasSuffix(name, ".service") {
			continue
		}
		verb := strings.TrimSuffix(strings.TrimPrefix(name, "trail-"), ".service")
		// HOME is the admin's who ran init: git reads its config there
		// (credentials, url.insteadOf, safe.directory), as at the shell.
		dropin := fmt.Sprintf("# Written by trail init: this host's checkout, binary and the admin's HOME, for git's config.\n[Service]\nWorkingDirectory=%s\nEnvironment=HOME=%s\nExecStart=\nExecStart=%s %s\n",
			h.Checkout.Dir, unitHome(), bin, verb)
		if err := writeFile(filepath.Join(dir, name+".d", "checkout.conf"), []byte(dropin)); err != nil {
			return err
		}
	}
	args := []string{"enable"}
	live := filepath.Clean(h.Settings.root()) == "/" && isDir("/run/systemd/system")
	if live {
		if err := h.systemctl(ctx, "daemon-reload"); err != nil {
			return err
		}
		args = append(args, "--now")
	} else {
		args = append([]string{"--root", h.Settings.root()}, args...)
	}
	if err := h.systemctl(ctx, append(args, enable...)...); err != nil {
		return err
	}
	fmt.Fprintf(h.Out, "trail: installed and enabled %s in %s\n", strings.Join(enable, ", "), dir)
	return nil
}

// systemctl runs systemctl as the engine runs its tools (Engine.RunTool):
// under the state lock, named there while it runs.
func (h *Host) systemctl(ctx context.Context, args ...string) error {
	e, err := h.Engine()
	if err != nil {
		return err
	}
	if out, err := e.RunTool(ctx, "systemctl", args...); err != nil {
		return fmt.Errorf("systemctl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func writeFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return atomicfile.Write(path, data, 0o644)
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// unitHome is the HOME the services run with: the caller's, or root's.
func unitHome() string {
	if h := os.Getenv("HOME"); filepath.IsAbs(h) && !strings.ContainsAny(h, " \n\"'\\%$") {
		return h
	}
	return "/root"
}

// homeOf names the HOME git read its config from, for error messages.
func homeOf() string {
	if h := os.Getenv("HOME"); h != "" {
		return h
	}
	return "(unset: git reads no user config; the shipped units set HOME)"
}
