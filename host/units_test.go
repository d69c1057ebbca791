package host

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"trail/dist"
)

// findProc returns the pid of a process whose command line holds every
// one of args in order, or 0.
func findProc(args ...string) int {
	ents, _ := os.ReadDir("/proc")
	want := []byte(strings.Join(args, "\x00") + "\x00")
	for _, ent := range ents {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", ent.Name(), "cmdline"))
		if err == nil && bytes.Contains(cmdline, want) {
			return pid
		}
	}
	return 0
}

// The systemctl that trail init runs to enable its units runs as the
// engine's tools do (internal/proc): in a process group of its own, with
// a TRAIL_RUN token, and named in the state lock while it runs, so that a
// trail killed meanwhile leaves nothing the next one does not kill; the
// lock is released after it. Here systemctl is held up reading a unit
// that is a FIFO (/etc/systemd/system.control comes first in its search
// path) until the test writes the unit into it.
func TestInstallUnitsRunsSystemctlAsAChild(t *testing.T) {
	dir := testCheckout(t, "")
	h, _ := openHost(t, dir)
	root := h.Settings.root()
	fifo := filepath.Join(root, "etc/systemd/system.control/trail-pull.timer")
	if err := os.MkdirAll(filepath.Dir(fifo), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- h.InstallUnits(context.Background(), "timer", "/usr/bin/trail") }()
	unblock := func() {
		w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := dist.Units.ReadFile("trail-pull.timer")
		w.Write(data)
		w.Close()
	}

	var pid int
	for pid == 0 {
		select {
		case err := <-done:
			t.Fatalf("InstallUnits returned before systemctl read the unit: %v", err)
		default:
		}
		pid = findProc("systemctl", "--root", root)
		time.Sleep(5 * time.Millisecond)
	}
	env, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "environ"))
	if err != nil {
		unblock()
		t.Fatal(err)
	}
	var token string
	for _, kv := range strings.Split(string(env), "\x00") {
		if v, ok := strings.CutPrefix(kv, "TRAIL_RUN="); ok {
			token = v
		}
	}
	pgid, _ := unix.Getpgid(pid)
	// The lock names the child's token before it starts and its group
	// once it has: wait for the group while the lock is held at all.
	var lock []byte
	for {
		lock, _ = os.ReadFile(filepath.Join(h.Settings.state(), "lock"))
		if !bytes.Contains(lock, []byte("pid ")) || bytes.Contains(lock, []byte("child "+strconv.Itoa(pid)+" ")) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	unblock()
	if err := <-done; err != nil {
		t.Logf("InstallUnits: %v", err) // the unit read from the FIFO is not where enable expects it
	}
	if token == "" {
		t.Error("systemctl runs without a TRAIL_RUN token")
	}
	if pgid != pid {
		t.Errorf("systemctl runs in process group %d, not one of its own (%d)", pgid, pid)
	}
	if want := "child " + strconv.Itoa(pid) + " "; !strings.Contains(string(lock), want) || token == "" || !strings.Contains(string(lock), token) {
		t.Errorf("the state lock does not name systemctl (pid %d, token %q) while it runs:\n%s", pid, token, lock)
	}
	if after, _ := os.ReadFile(filepath.Join(h.Settings.state(), "lock")); len(after) != 0 {
		t.Errorf("the state lock still holds after InstallUnits:\n%s", after)
	}
}

// packageUnits puts the units in root's /lib/systemd/system as the Debian
// package ships them (debian/rules: running /usr/bin/trail).
func packageUnits(t *testing.T, root string) {
	t.Helper()
	for _, name := range dist.Names {
		data, err := dist.Units.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(root, "lib/systemd/system", name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, bytes.ReplaceAll(data, []byte("/usr/local/bin/trail"), []byte("/usr/bin/trail")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// wantLink fails unless the root's link p (enablement, made by systemctl
// --root) points at to.
func wantLink(t *testing.T, root, p, to string) {
	t.Helper()
	got, err := os.Readlink(filepath.Join(root, p))
	if err != nil || got != to {
		t.Errorf("%s: %q, %v; want a link to %s", p, got, err, to)
	}
}

// trail init --systemd enables the units the package ships in
// /lib/systemd/system rather than writing copies in /etc/systemd/system
// that would override them (and a package upgrade's changes with them),
// and says so; their drop-ins point them at the checkout. Without the
// package's units it writes its own copies, as before. A copy an earlier
// init wrote goes when the package's units come, and what was enabled
// through it is enabled through the packaged unit; a copy that is not
// trail's is kept, and said to override the packaged unit.
func TestInstallUnitsUsesPackagedUnits(t *testing.T) {
	etc := "etc/systemd/system/"
	install := func(t *testing.T, dir, mode string) string {
		t.Helper()
		var out bytes.Buffer
		h, err := Open(dir, &out, &out)
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		if err := h.InstallUnits(context.Background(), mode, "/usr/bin/trail"); err != nil {
			t.Fatalf("InstallUnits %s: %v\n%s", mode, err, out.String())
		}
		return out.String()
	}
	rootOf := func(dir string) string { return filepath.Join(filepath.Dir(dir), "root") }
	dropins := func(t *testing.T, root string) {
		t.Helper()
		for _, name := range []string{"trail-pull.service", "trail-watch.service"} {
			data, err := os.ReadFile(filepath.Join(root, etc, name+".d/checkout.conf"))
			if err != nil || !strings.Contains(string(data), "ExecStart=/usr/bin/trail ") {
				t.Errorf("%s's drop-in: %q, %v", name, data, err)
			}
		}
	}

	t.Run("packaged", func(t *testing.T) {
		dir := testCheckout(t, "")
		root := rootOf(dir)
		packageUnits(t, root)
		out := install(t, dir, "timer")
		for _, name := range dist.Names {
			if _, err := os.Lstat(filepath.Join(root, etc, name)); err == nil {
				t.Errorf("%s written over the packaged unit", etc+name)
			}
		}
		dropins(t, root)
		wantLink(t, root, etc+"timers.target.wants/trail-pull.timer", "/lib/systemd/system/trail-pull.timer")
		if !strings.Contains(out, "using the packaged /lib/systemd/system/trail-watch.service, /lib/systemd/system/trail-pull.service, /lib/systemd/system/trail-pull.timer") {
			t.Errorf("init does not say it uses the packaged units:\n%s", out)
		}
		if !strings.Contains(out, "trail: enabled trail-pull.timer\n") || strings.Contains(out, "installed and enabled") {
			t.Errorf("init says it installed units in /etc/systemd/system over packaged ones:\n%s", out)
		}
	})

	t.Run("not packaged", func(t *testing.T) {
		dir := testCheckout(t, "")
		root := rootOf(dir)
		out := install(t, dir, "timer")
		for _, name := range dist.Names {
			data, _ := dist.Units.ReadFile(name)
			if got, err := os.ReadFile(filepath.Join(root, etc, name)); err != nil || !bytes.Equal(got, data) {
				t.Errorf("%s: not trail's unit (%v)", etc+name, err)
			}
		}
		dropins(t, root)
		wantLink(t, root, etc+"timers.target.wants/trail-pull.timer", "/etc/systemd/system/trail-pull.timer")
		if strings.Contains(out, "using the packaged") || strings.Contains(out, "removed") {
			t.Errorf("init speaks of packaged units there are none of:\n%s", out)
		}
		if !strings.Contains(out, "trail: installed and enabled trail-pull.timer in ") {
			t.Errorf("init does not say it installed the units:\n%s", out)
		}
	})

	t.Run("copies of an earlier init", func(t *testing.T) {
		dir := testCheckout(t, "")
		root := rootOf(dir)
		install(t, dir, "watch")
		wantLink(t, root, etc+"multi-user.target.wants/trail-watch.service", "/etc/systemd/system/trail-watch.service")
		packageUnits(t, root)
		mine := filepath.Join(root, etc, "trail-pull.service")
		if err := os.WriteFile(mine, []byte("[Service]\nExecStart=/usr/local/bin/my-trail pull\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		out := install(t, dir, "timer")
		for _, name := range []string{"trail-watch.service", "trail-pull.timer"} {
			if _, err := os.Lstat(filepath.Join(root, etc, name)); err == nil {
				t.Errorf("the earlier copy %s is still there", etc+name)
			}
			if !strings.Contains(out, "removed "+filepath.Join(root, etc, name)) {
				t.Errorf("init does not say it removed %s:\n%s", etc+name, out)
			}
		}
		if got, err := os.ReadFile(mine); err != nil || !strings.Contains(string(got), "my-trail") {
			t.Errorf("the admin's trail-pull.service was not kept: %q, %v", got, err)
		}
		if !strings.Contains(out, "note: "+mine+" is not trail's copy and overrides the packaged /lib/systemd/system/trail-pull.service") {
			t.Errorf("init does not say the admin's unit overrides the packaged one:\n%s", out)
		}
		wantLink(t, root, etc+"multi-user.target.wants/trail-watch.service", "/lib/systemd/system/trail-watch.service")
		wantLink(t, root, etc+"timers.target.wants/trail-pull.timer", "/lib/systemd/system/trail-pull.timer")
	})
}
