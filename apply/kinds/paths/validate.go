package paths

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"trail/apply/internal/proc"
	"trail/apply/kind"
	"trail/stepfmt"
)

// validateTimeout bounds one validate command: a checker that hangs must
// not hold the apply.
const validateTimeout = 2 * time.Minute

// validated is the Keep key of a validation that passed in this operation,
// so that the apply's second check of a change (right before it is made)
// does not run the command again. The checker sees the copy's name and
// mode too, so they are part of the key.
type validated struct {
	cmd, content, name string
	mode               uint32
}

// validate runs a step's validate command on the content it is about to
// install at target: the content is written to a private temporary
// directory in trail's state directory (Exec.MkdirTemp: it may be a
// secret, and one a killed trail left is removed by the next), named as
// the target is (some checkers go by the name), with
// the step's mode, and every %s of cmd is replaced by its path, quoted for
// the shell (%% stands for a %). The command runs as commands do
// (proc.RunChild, /bin/sh -c, a clean environment, the working directory
// at the root and TRAIL_ROOT naming it, not chrooted), so the temporary
// path is the host's. A plan
// whose command's program is not installed yet (a package of the same
// apply brings it) defers the check to the apply's check right before the
// file is written, and says so in the returned note; a failure there fails
// the step, and the apply is undone as for any failing step.
func validate(v *kind.View, target, cmd, key string, data []byte, mode uint32) (string, error) {
	x := v.Exec()
	done := validated{cmd, key, filepath.Base(target), mode}
	if x.Kept(done) != nil {
		return "", nil
	}
	if v.Planning() {
		if prog, ok := installed(cmd); !ok {
			return "validate deferred until right before the file is written: " + prog + " is not installed yet", nil
		}
	}
	whole := data == nil // a FILE's content, not an EDIT's result
	if whole {
		r, err := x.OpenContent(key)
		if err == nil {
			data, err = io.ReadAll(r)
			r.Close()
		}
		if err != nil {
			return "", fmt.Errorf("validate: reading the new content: %w", err)
		}
	}
	dir, err := x.MkdirTemp("validate")
	if err != nil {
		return "", fmt.Errorf("validate: %w", err)
	}
	defer os.RemoveAll(dir)
	tmp := filepath.Join(dir, filepath.Base(target))
	if mode == 0 {
		mode = 0o600
	}
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return "", fmt.Errorf("validate: %w", err)
	}
	if err := os.Chmod(tmp, os.FileMode(mode&0o777)); err != nil {
		return "", fmt.Errorf("validate: %w", err)
	}
	script, _ := stepfmt.ExpandValidate(cmd, shellQuote(tmp))
	out, err := runValidate(x, script)
	if err != nil {
		if x.SecretContent(key) || x.IsSecret(target) {
			// A checker may quote what it refuses: not a secret, nor
			// anything at a path a secret step names. Its output is left
			// out whole: a filter of the secret's lines would still let
			// through a word of one quoted in a message (nginx quotes
			// the token it refuses). A secret FILE's content, and an
			// EDIT's result, are what trail show -secret prints, so the
			// admin can run it there.
			out = "its output is not shown: the content is secret; to see it, run the checker as root on what `trail show -secret " +
				target + " REV` prints for the commit being applied"
		}
		return "", validateError(cmd, tmp, out, err)
	}
	x.Keep(done, true)
	return "", nil
}

// runValidate runs script with /bin/sh -c as commands run (proc.Shell),
// and returns what it printed (stdout and stderr together).
func runValidate(x *kind.Exec, script string) (string, error) {
	var out bytes.Buffer
	// The program may read what this batch created: written first.
	x.Root.Settle()
	err := proc.Shell(context.Background(), x.Root.Dir(), script, validateTimeout, &out)
	return out.String(), err
}

// validateRefusal is a validate command's refusal: the command, how it
// ended and what it said.
type validateRefusal struct {
	cmd, how, out string
}

func (r *validateRefusal) Error() string {
	msg := fmt.Sprintf("validate `%s` refused the new content (%s)", r.cmd, r.how)
	if r.out != "" {
		msg += ": " + r.out
	}
	return msg
}

// validateError says that the new content was refused, with what the
// command said, the temporary path replaced by %s so that the message does
// not name a file that is gone.
func validateError(cmd, tmp, out string, err error) error {
	out = strings.TrimSpace(strings.ReplaceAll(out, tmp, "%s"))
	if len(out) > 2048 {
		out = "…" + out[len(out)-2048:]
	}
	var exit *exec.ExitError
	how := err.Error()
	if errors.As(err, &exit) {
		how = fmt.Sprintf("exit %d", exit.ExitCode())
	}
	return &validateRefusal{cmd: cmd, how: how, out: out}
}

// installed reports whether the program a command starts with can be run:
// its first word that is not a variable assignment, looked up as the shell
// would (a path as it is, a name in PATH). A name the shell provides
// (test, [, exit) counts as installed; so does anything not a plain word.
func installed(cmd string) (string, bool) {
	for _, w := range strings.Fields(cmd) {
		if strings.Contains(w, "=") && !strings.HasPrefix(w, "=") {
			continue
		}
		if strings.ContainsAny(w, "'\"$`\\(){};&|<>*?") || shellBuiltin[w] {
			return w, true
		}
		if strings.Contains(w, "/") {
			return w, executable(w)
		}
		for _, d := range filepath.SplitList(proc.ShellPath) {
			if executable(filepath.Join(d, w)) {
				return w, true
			}
		}
		return w, false
	}
	return "", true
}

var shellBuiltin = map[string]bool{"test": true, "[": true, "true": true, "false": true, "exit": true,
	"echo": true, "printf": true, "cd": true, "command": true, "exec": true, "!": true, "if": true, "for": true}

func executable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}

// shellQuote quotes s as one word for /bin/sh, when it needs it.
func shellQuote(s string) string {
	if strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
