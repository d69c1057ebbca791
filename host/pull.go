package host

import (
	"context"
	"fmt"
	"os/exec"
)

// Pull is what the backstop timer runs: on a branch, `git pull --ff-only`
// (whose post-merge hook applies what it brings); pinned, no pull at all.
// Then HEAD is applied if it is not the applied commit, which also catches
// a `git reset --hard` or a hook that did not run.
func (h *Host) Pull(ctx context.Context) (*Outcome, error) {
	head, err := h.Checkout.ReadHead()
	if err != nil {
		return nil, err
	}
	if head.Pinned() {
		fmt.Fprintf(h.Out, "trail: pinned at %s (detached HEAD): not pulling; 'git checkout BRANCH' releases the pin\n", Short(head.Commit))
		// Fetching moves no HEAD, and status can then say how far behind the pin is.
		if _, err := h.git("fetch", "--quiet"); err != nil {
			fmt.Fprintf(h.Err, "trail: %v\n", err)
		}
	} else if _, err := h.git("rev-parse", "--verify", "--quiet", "@{upstream}"); err != nil {
		fmt.Fprintf(h.Out, "trail: branch %s has no upstream: not pulling (git branch --set-upstream-to origin/%s sets one)\n", head.Branch, head.Branch)
	} else if err := h.gitPull(ctx); err != nil {
		h.WriteMetrics(nil)
		return nil, err
	}
	out, err := h.Apply(ctx, ApplyOptions{Auto: true})
	if err != nil {
		return out, err
	}
	if out.Skipped != "" {
		fmt.Fprintf(h.Err, "trail: not applying: %s\n", out.Skipped)
	}
	if out.NoOp {
		h.WriteMetrics(nil)
	}
	return out, nil
}

func (h *Host) gitPull(ctx context.Context) error {
	cmd := exec.CommandContext(ctx, "git", "pull", "--ff-only", "--quiet")
	cmd.Dir = h.Checkout.Dir
	cmd.Env = append(gitEnv(), "GIT_TERMINAL_PROMPT=0")
	cmd.Stdout, cmd.Stderr = h.Out, h.Err
	cmd.Stdin = nil
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("git pull --ff-only in %s: %w (a branch that diverged from its upstream is never merged by trail: reset it or check out the upstream)", h.Checkout.Dir, err)
	}
	return nil
}
