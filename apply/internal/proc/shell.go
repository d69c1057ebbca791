package proc

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"time"
)

// ShellPath is the PATH of what Shell runs.
const ShellPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Shell runs script with /bin/sh -c as an apply runs the scripts a config
// gives it (commands, checks, validate commands): a child (RunChild) in a
// clean environment (PATH, HOME=/root, LANG=C.UTF-8, TRAIL_ROOT), on the
// host, not chrooted, with the working directory at root and TRAIL_ROOT
// naming it, stdout and stderr together into out, its process group
// killed once timeout passes.
func Shell(ctx context.Context, root, script string, timeout time.Duration, out io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	root, err := filepath.Abs(root)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", script)
	cmd.Dir = root
	cmd.Env = []string{"PATH=" + ShellPath, "HOME=/root", "LANG=C.UTF-8", "TRAIL_ROOT=" + root}
	cmd.Stdout, cmd.Stderr = out, out
	err = RunChild(cmd)
	if ctx.Err() == context.DeadlineExceeded {
		err = fmt.Errorf("timed out after %s (its process group was killed)", timeout)
	}
	return err
}
