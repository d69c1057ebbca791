package host

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"trail/apply"
	"trail/dist"
	"trail/internal/atomicfile"
)

// packagedDirs are where the Debian package ships the units, under the
// root (/lib is usr/lib on a merged-/usr system, but not in every root).
var packagedDirs = []string{"/lib/systemd/system", "/usr/lib/systemd/system"}

// packagedUnit returns where the root holds unit name as the package
// ships it, if it does.
func packagedUnit(root, name string) (string, bool) {
	for _, d := range packagedDirs {
		if fi, err := os.Stat(filepath.Join(root, d, name)); err == nil && fi.Mode().IsRegular() {
			return d, true
		}
	}
	return "", false
}

// InstallUnits enables trail's units in the root, with a drop-in per
// service in /etc/systemd/system that points it at this checkout and
// binary: mode "watch" the trail-watch daemon (which also pulls on an
// interval), mode "timer" only trail-pull.timer. A unit the Debian
// package ships (in /lib/systemd/system) is used as it is, so that a
// package upgrade updates it; one that is not there (a binary installed
// without the package) is written into /etc/systemd/system. A copy an
// earlier init wrote over a packaged unit is removed, its enablement
// moved to the packaged one; a copy that is not trail's is kept, and said
// to override it. On the real root with systemd running the units are
// started too; in another root they are only enabled, as systemctl --root
// can.
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
	root := h.Settings.root()
	dir := filepath.Join(root, "etc/systemd/system")
	var packaged, copies []string
	for _, name := range dist.Names {
		data, err := dist.Units.ReadFile(name)
		if err != nil {
			return err
		}
		copyPath := filepath.Join(dir, name)
		if from, ok := packagedUnit(root, name); ok {
			packaged = append(packaged, from+"/"+name)
			switch fi, err := os.Lstat(copyPath); {
			case errors.Is(err, fs.ErrNotExist), err == nil && !fi.Mode().IsRegular():
				// None, or a link of systemctl's own (a mask).
			case err == nil && sameFile(copyPath, data):
				copies = append(copies, name)
			default:
				fmt.Fprintf(h.Out, "trail: note: %s is not trail's copy and overrides the packaged %s/%s: remove it to use the packaged unit\n", copyPath, from, name)
			}
		} else if err := writeFile(copyPath, data); err != nil {
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
	live := filepath.Clean(root) == "/" && isDir("/run/systemd/system")
	var at []string
	if !live {
		at = []string{"--root", root}
	}
	if err := h.dropCopies(ctx, at, dir, copies, enable); err != nil {
		return err
	}
	if live {
		if err := h.systemctl(ctx, "daemon-reload"); err != nil {
			return err
		}
	}
	if err := h.systemctl(ctx, append(append(at, "enable"), enable...)...); err != nil {
		return err
	}
	if live {
		// Not under the state lock: trail-watch takes it to apply before
		// it is ready, and the start waits for that.
		args := append([]string{"start"}, enable...)
		if out, err := apply.RunUnlocked(ctx, "systemctl", args...); err != nil {
			return fmt.Errorf("systemctl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
		}
	}
	if len(packaged) > 0 {
		fmt.Fprintf(h.Out, "trail: using the packaged %s, with this checkout's drop-ins in %s\n", strings.Join(packaged, ", "), dir)
		fmt.Fprintf(h.Out, "trail: enabled %s\n", strings.Join(enable, ", "))
		return nil
	}
	fmt.Fprintf(h.Out, "trail: installed and enabled %s in %s\n", strings.Join(enable, ", "), dir)
	return nil
}

// dropCopies removes the copies an earlier init wrote in dir of units
// the package now ships, and moves the enablement of those that were
// enabled, and of those this init enables, to the packaged unit
// (systemctl reenable), so that no link is left pointing at a copy that
// is gone.
func (h *Host) dropCopies(ctx context.Context, at []string, dir string, names, enable []string) error {
	var again []string
	for _, name := range names {
		if slices.Contains(enable, name) {
			again = append(again, name)
			continue
		}
		out, _ := h.systemctlOut(ctx, append(at, "is-enabled", name)...)
		if strings.TrimSpace(out) == "enabled" {
			again = append(again, name)
		}
	}
	for _, name := range names {
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			return err
		}
		fmt.Fprintf(h.Out, "trail: removed %s, a copy an earlier trail init wrote, which overrode the packaged unit\n", filepath.Join(dir, name))
	}
	if len(again) == 0 {
		return nil
	}
	return h.systemctl(ctx, append(append(at, "reenable"), again...)...)
}

// systemctl runs systemctl as the engine runs its tools (Engine.RunTool):
// under the state lock, named there while it runs.
func (h *Host) systemctl(ctx context.Context, args ...string) error {
	_, err := h.systemctlOut(ctx, args...)
	return err
}

// systemctlOut is systemctl returning what it printed.
func (h *Host) systemctlOut(ctx context.Context, args ...string) (string, error) {
	e, err := h.Engine()
	if err != nil {
		return "", err
	}
	out, err := e.RunTool(ctx, "systemctl", args...)
	if err != nil {
		return string(out), fmt.Errorf("systemctl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// sameFile reports whether the file at p holds data.
func sameFile(p string, data []byte) bool {
	old, err := os.ReadFile(p)
	return err == nil && bytes.Equal(old, data)
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
