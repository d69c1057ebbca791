package hooks

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"trail/internal/atomicfile"
)

// Names are the hooks trail installs.
var Names = []string{"post-checkout", "post-merge", "post-rewrite"}

// marker identifies a hook file written by trail.
const marker = "# installed by trail: do not edit, run 'trail init' again"

const chainedSuffix = ".trail-chained"

// Dir returns the hooks directory git uses for the checkout at repo.
func Dir(repo string) (string, error) {
	cmd := exec.Command("git", "rev-parse", "--git-path", "hooks")
	cmd.Dir = repo
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("find the hooks directory of %s: %w: %s", repo, err, strings.TrimSpace(stderr.String()))
	}
	dir := strings.TrimSpace(string(out))
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(repo, dir)
	}
	return dir, nil
}

// Script returns the hook script for hook name, running trail at trailPath.
func Script(name, trailPath string) string {
	return fmt.Sprintf(`#!/bin/sh
%s
chained="$0%s"
status=0
if [ -x "$chained" ]; then
	stdin=$(mktemp) && cat > "$stdin"
	"$chained" "$@" < "$stdin" || status=$?
	exec < "$stdin"; rm -f "$stdin"
fi
%s hook %s "$@" || echo "trail: the %s hook could not run trail (exit $?); see 'trail status'" >&2
exit $status
`, marker, chainedSuffix, shellQuote(trailPath), name, name)
}

// Installed reports whether the file at path is a hook trail wrote.
func Installed(path string) bool {
	data, err := os.ReadFile(path)
	return err == nil && bytes.Contains(data, []byte(marker))
}

// Install writes trail's hooks into the checkout at repo, chaining any hook
// already there. It is idempotent: running it again refreshes trail's hooks.
func Install(repo, trailPath string) error {
	dir, err := Dir(repo)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create hooks directory: %w", err)
	}
	for _, name := range Names {
		path := filepath.Join(dir, name)
		if _, err := os.Lstat(path); err == nil && !Installed(path) {
			chained := path + chainedSuffix
			if _, err := os.Lstat(chained); err == nil {
				return fmt.Errorf("%s: both a hook and %s exist: merge them by hand, then run trail init again", path, filepath.Base(chained))
			}
			if err := os.Rename(path, chained); err != nil {
				return fmt.Errorf("keep the existing %s hook: %w", name, err)
			}
		}
		if err := writeFile(path, []byte(Script(name, trailPath))); err != nil {
			return fmt.Errorf("install the %s hook: %w", name, err)
		}
	}
	return nil
}

// Uninstall removes trail's hooks and puts chained hooks back in place.
func Uninstall(repo string) error {
	dir, err := Dir(repo)
	if err != nil {
		return err
	}
	for _, name := range Names {
		path := filepath.Join(dir, name)
		if !Installed(path) {
			continue
		}
		if err := os.Remove(path); err != nil {
			return err
		}
		chained := path + chainedSuffix
		if err := os.Rename(chained, path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("restore the %s hook: %w", name, err)
		}
	}
	return nil
}

// writeFile writes an executable file atomically.
func writeFile(path string, data []byte) error { return atomicfile.Write(path, data, 0o755) }

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
