package proc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
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

// ToolError is a tool that ran and failed: its command line, exit status
// and the end of what it said on stdout and stderr together (Tail), so
// that the message names the real cause. The tools run through RunTool
// (apt, dpkg, systemctl) are given no secret, so what they say may be
// shown; a maintainer script prints what its package's author chose.
type ToolError struct {
	cmd    string
	status int
	Output string
}

func (e *ToolError) Error() string {
	msg := fmt.Sprintf("%s failed (exit %d)", e.cmd, e.status)
	if e.Output != "" {
		msg += ": " + e.Output
	}
	return msg
}

// RunTool runs name with args and returns its standard output. A non-zero
// exit is a *ToolError carrying the last lines of its standard output and
// standard error together, in the order they came (see said).
func RunTool(name string, args ...string) (string, error) {
	return RunToolEnv(nil, name, args...)
}

// RunToolEnv is RunTool with extra entries (KEY=value) in the tool's
// environment.
func RunToolEnv(extra []string, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = toolEnv
	if home := os.Getenv("HOME"); home != "" {
		cmd.Env = append(cmd.Env[:len(cmd.Env):len(cmd.Env)], "HOME="+home)
	}
	cmd.Env = append(cmd.Env[:len(cmd.Env):len(cmd.Env)], extra...)
	var out bytes.Buffer
	var both, errs said
	cmd.Stdout, cmd.Stderr = io.MultiWriter(&out, &both), io.MultiWriter(&errs, &both)
	err := RunChild(cmd)
	if err == nil {
		return out.String(), nil
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return out.String(), fmt.Errorf("%s: %w", name, err)
	}
	return out.String(), &ToolError{cmd: name + " " + strings.Join(args, " "), status: ee.ExitCode(), Output: TailEnding(both.String(), errs.String())}
}

// RunChild runs cmd as a child trail answers for (see group.go): in
// its own process group, which a cancelled context kills whole; killed
// with SIGKILL if trail dies (Pdeathsig, which the kernel sends when the
// thread that forked the child ends, so the goroutine keeps its thread
// until the child is reaped); with a token of its own in TRAIL_RUN,
// which its descendants inherit; and named in the state lock while it
// runs.
func RunChild(cmd *exec.Cmd) error {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	if cmd.Cancel != nil {
		cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
		if cmd.WaitDelay == 0 {
			cmd.WaitDelay = time.Second
		}
	}
	token := newToken()
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env[:len(cmd.Env):len(cmd.Env)], runEnv+"="+token)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	trackChild(Group{Token: token})
	defer untrackChild(token)
	if err := cmd.Start(); err != nil {
		return err
	}
	trackChild(Group{PGID: cmd.Process.Pid, Token: token})
	return cmd.Wait()
}

// ChildOutput is cmd.CombinedOutput through RunChild.
func ChildOutput(cmd *exec.Cmd) ([]byte, error) {
	var b bytes.Buffer
	cmd.Stdout, cmd.Stderr = &b, &b
	err := RunChild(cmd)
	return b.Bytes(), err
}

// ExitStatus returns the exit status of a *ToolError, or -1.
func ExitStatus(err error) int {
	var te *ToolError
	if errors.As(err, &te) {
		return te.status
	}
	return -1
}
