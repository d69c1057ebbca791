package host

import (
	"context"
	"fmt"
	"os/exec"

	"trail/apply"
)

// RollbackTarget returns the generation to roll back to: walking the good
// generations before the applied one, newest first, the n-th distinct
// commit other than the applied one (re-applies, heals and earlier visits
// of a commit count once).
func (h *Host) RollbackTarget(n int) (*apply.Generation, error) {
	if n < 1 {
		return nil, fmt.Errorf("rollback %d: count generations back from 1", n)
	}
	e, err := h.Engine()
	if err != nil {
		return nil, err
	}
	cur, err := e.Current()
	if err != nil {
		return nil, err
	}
	if cur == nil {
		return nil, fmt.Errorf("nothing was applied yet: there is nothing to roll back to")
	}
	gens, err := e.Generations()
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{cur.Commit: true}
	for _, g := range gens {
		if g.Number >= cur.Number || g.Result != apply.ResultOK || seen[g.Commit] {
			continue
		}
		seen[g.Commit] = true
		if n--; n == 0 {
			return g, nil
		}
	}
	return nil, fmt.Errorf("there are not that many good generations before generation %d: see 'trail log'", cur.Number)
}

// Rollback checks out the commit of the n-th previous good generation,
// detached: a pin the pull timer will not move. The post-checkout hook
// applies it, as any checkout.
func (h *Host) Rollback(ctx context.Context, n int) (*apply.Generation, error) {
	g, err := h.RollbackTarget(n)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, "git", "checkout", "--quiet", "--detach", g.Commit)
	cmd.Dir = h.Checkout.Dir
	cmd.Env = gitEnv()
	cmd.Stdout, cmd.Stderr = h.Out, h.Err
	if err := cmd.Run(); err != nil {
		return g, fmt.Errorf("git checkout --detach %s: %w", Short(g.Commit), err)
	}
	return g, nil
}
