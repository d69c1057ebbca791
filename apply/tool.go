package apply

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// toolTimeout bounds one call of an external tool (apt-get, dpkg,
// systemctl): a tool that hangs must not hold the lock forever.
const toolTimeout = 30 * time.Minute

// toolEnv is the environment external tools run with: a fixed locale so
// that their output parses, and no questions asked.
var toolEnv = []string{
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"LC_ALL=C.UTF-8",
	"DEBIAN_FRONTEND=noninteractive",
	"APT_LISTCHANGES_FRONTEND=none",
	"NEEDRESTART_MODE=l",
}

// toolError is a tool that ran and failed: its command line, exit status
// and the end of what it said, so that the message names the real cause.
type toolError struct {
	cmd    string
	status int
	output string
}

func (e *toolError) Error() string {
	msg := fmt.Sprintf("%s failed (exit %d)", e.cmd, e.status)
	if e.output != "" {
		msg += ": " + e.output
	}
	return msg
}

// runTool runs name with args and returns its standard output. A non-zero
// exit is a *toolError carrying the last lines of standard error (or of
// standard output when standard error is empty).
func runTool(name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = toolEnv
	if home := os.Getenv("HOME"); home != "" {
		cmd.Env = append(cmd.Env[:len(cmd.Env):len(cmd.Env)], "HOME="+home)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err == nil {
		return out.String(), nil
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return out.String(), fmt.Errorf("%s: %w", name, err)
	}
	said := errb.String()
	if strings.TrimSpace(said) == "" {
		said = out.String()
	}
	return out.String(), &toolError{cmd: name + " " + strings.Join(args, " "), status: ee.ExitCode(), output: tail(said, 6)}
}

// tail returns the last n non-empty lines of s, joined by "; ".
func tail(s string, n int) string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "; ")
}

// exitStatus returns the exit status of a *toolError, or -1.
func exitStatus(err error) int {
	var te *toolError
	if errors.As(err, &te) {
		return te.status
	}
	return -1
}
