package units

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"trail/apply/internal/proc"
	"trail/apply/kind"
)

// unitTools runs systemctl for one root. The machine is live when the root
// is "/" and systemd runs it (/run/systemd/system exists, as sd_booted(3)
// checks): then units are started, stopped, restarted and reloaded.
// Otherwise — another root, or "/" in an image build or a container
// without systemd — every call is `systemctl --root=ROOT`, which changes
// only unit files and their symlinks: enable, disable, mask and unmask
// work, starting and stopping do not apply.
type unitTools struct {
	root string
	live bool
}

func unitToolsOf(x *kind.Exec) unitTools {
	root := filepath.Clean(x.Root.Dir())
	return unitTools{root: root, live: root == "/" && booted()}
}

func booted() bool {
	st, err := os.Lstat("/run/systemd/system")
	return err == nil && st.IsDir()
}

func (t unitTools) systemctl(args ...string) (string, error) {
	if !t.live {
		args = append([]string{"--root=" + t.root}, args...)
	}
	return proc.RunTool("systemctl", args...)
}

// unitState is what systemctl says of a unit: its unit file state
// (is-enabled: enabled, disabled, static, masked, ...; "" when there is
// no unit file) and, on a live machine, its active state.
type unitState struct {
	File, active string
}

// read asks systemctl for the unit's state.
func (t unitTools) read(name string) (unitState, error) {
	out, err := t.systemctl("is-enabled", name)
	st := unitState{File: strings.TrimSpace(out)}
	if err != nil && st.File == "" {
		var te *proc.ToolError
		if errors.As(err, &te) && strings.Contains(te.Output, "No such file") {
			return unitState{}, nil
		}
		return unitState{}, err
	}
	if t.live {
		out, err := t.systemctl("is-active", name)
		st.active = strings.TrimSpace(out)
		if st.active == "" {
			return unitState{}, err
		}
	}
	return st, nil
}

// reloadIfNeeded runs daemon-reload when systemd's copy of the unit is
// older than its file (a FILE step just changed it).
func (t unitTools) reloadIfNeeded(name string) error {
	if !t.live {
		return nil
	}
	out, err := t.systemctl("show", "-p", "NeedDaemonReload", "--value", name)
	if err != nil || strings.TrimSpace(out) != "yes" {
		return err
	}
	_, err = t.systemctl("daemon-reload")
	return err
}

// act runs a systemctl verb that starts the unit (start, restart, ...).
// When systemd refuses because the unit was started too often (its
// StartLimitBurst within StartLimitIntervalSec, e.g. a restart, a
// failed restart and the undo's restart in a few seconds), the start
// trail asks for is deliberate: the counter is reset (reset-failed) and
// the verb run once more, and the reset is reported.
func (t unitTools) act(x *kind.Exec, verb, name string) error {
	_, err := t.systemctl(verb, name)
	if err == nil {
		return nil
	}
	if u, rerr := t.running(name); rerr != nil || u.result != "start-limit-hit" {
		return err
	}
	if _, rerr := t.systemctl("reset-failed", name); rerr != nil {
		return errors.Join(err, rerr)
	}
	x.Report("systemd's start limit was hit: reset-failed, then " + verb + " again")
	_, err = t.systemctl(verb, name)
	return err
}

// unitRun is what systemctl show says of whether a unit runs.
type unitRun struct {
	typ, active, sub, result string
	restarts                 int
}

func (t unitTools) running(name string) (unitRun, error) {
	out, err := t.systemctl("show", "-p", "Type,ActiveState,SubState,Result,NRestarts", name)
	if err != nil {
		return unitRun{}, err
	}
	var u unitRun
	for _, line := range strings.Split(out, "\n") {
		k, v, _ := strings.Cut(strings.TrimSpace(line), "=")
		switch k {
		case "Type":
			u.typ = v
		case "ActiveState":
			u.active = v
		case "SubState":
			u.sub = v
		case "Result":
			u.result = v
		case "NRestarts":
			u.restarts, _ = strconv.Atoi(v)
		}
	}
	return u, nil
}

// failing says how a unit that was just started is not running: failed,
// ended with an error, or restarted by systemd since first.
func (u unitRun) failing(first unitRun) string {
	switch {
	case u.active == "failed":
		return "it failed (" + u.result + ")"
	case u.result != "" && u.result != "success":
		return "it ended (" + u.result + "), now " + u.active + "/" + u.sub
	case u.restarts > first.restarts:
		return fmt.Sprintf("it exited and systemd restarted it %d time(s)", u.restarts-first.restarts)
	}
	return ""
}

// settleTime is how long a unit whose start systemd does not wait for
// (Type=simple, exec, idle: started once its process runs) must keep
// running after a start or restart to count as started.
var settleTime = time.Second

// settle checks that a unit trail just started (verb) runs: at once, and
// for units of the types whose start returns before they are ready, again
// after settleTime, which catches a daemon that dies on a bad
// configuration right after its start. A unit that ends successfully
// (Type=oneshot) is fine.
func (t unitTools) settle(name, verb string) error {
	first, err := t.running(name)
	if err != nil {
		return err
	}
	now := first
	if first.failing(first) == "" {
		switch first.typ {
		case "simple", "exec", "idle":
			time.Sleep(settleTime)
			if now, err = t.running(name); err != nil {
				return err
			}
		}
	}
	if why := now.failing(first); why != "" {
		return fmt.Errorf("unit %s does not run after systemctl %s: %s; see journalctl -u %s", name, verb, why, name)
	}
	return nil
}

// unitDirs are the directories systemd looks for unit files in, most
// important first.
var unitDirs = []string{"/etc/systemd/system", "/run/systemd/system", "/usr/local/lib/systemd/system",
	"/lib/systemd/system", "/usr/lib/systemd/system"}

// unitFileNames returns the file names a unit can be defined by: its own,
// and its template's for an instance (foo@bar.service by foo@.service).
func unitFileNames(name string) []string {
	out := []string{name}
	if at := strings.IndexByte(name, '@'); at >= 0 {
		if dot := strings.LastIndexByte(name, '.'); dot > at+1 {
			out = append(out, name[:at+1]+name[dot:])
		}
	}
	return out
}

// fileWord classes of is-enabled words.
func isMaskedWord(w string) bool { return w == "masked" || w == "masked-runtime" }

// enabledWord returns whether a unit file state is enabled, and whether
// systemctl enable and disable can change it at all (static, indirect,
// generated, transient units and aliases have no [Install] to act on).
func enabledWord(w string) (on, changeable bool) {
	switch w {
	case "enabled", "enabled-runtime":
		return true, true
	case "disabled", "linked", "linked-runtime", "":
		return false, true
	}
	return false, false
}

// activeWord reports whether an is-active state counts as running.
func activeWord(w string) bool {
	return w == "active" || w == "activating" || w == "reloading" || w == "refreshing"
}
