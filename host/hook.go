package host

import (
	"context"
	"fmt"
	"path/filepath"
)

// Hook runs for the git hook name with its arguments. It trusts neither:
// a post-checkout of files only (third argument "0") is not a move of
// HEAD and does nothing; every other call applies HEAD when it is not the
// applied commit. A checkout of a commit (detached HEAD) applies it
// deliberately: the mass-removal guard lets it remove everything, as a
// rollback to before trail must; a branch checkout, a merge or a rewrite
// does not. The failure of an apply is recorded and reported like any
// other and returned for the caller to print; the caller must not fail git
// for it, since git has already moved HEAD.
func (h *Host) Hook(ctx context.Context, name string, args []string) error {
	switch name {
	case "post-checkout":
		if len(args) >= 3 && args[2] == "0" {
			return nil
		}
		if h.rebasing() {
			// A rebase checks out its base first; post-rewrite applies
			// where it ends, so the commits on the way are not applied.
			fmt.Fprintln(h.Err, "trail: a rebase is in progress: the post-rewrite hook applies where it ends")
			return nil
		}
	case "post-merge", "post-rewrite":
	default:
		return fmt.Errorf("hook %q: trail runs for post-checkout, post-merge and post-rewrite", name)
	}
	// A checkout of a commit (detached: a pin or a rollback) is the
	// admin's choice of it. A branch's tip, like a merge or a rewrite,
	// is what the remote brought: releasing a pin must not apply a tip
	// that was refused as a mass removal.
	out, err := h.Apply(ctx, ApplyOptions{Auto: true, Checkout: name == "post-checkout"})
	if err != nil {
		return err
	}
	if out.Skipped != "" {
		fmt.Fprintf(h.Err, "trail: not applying: %s\n", out.Skipped)
	}
	return nil
}

// rebasing reports whether git is in the middle of a rebase.
func (h *Host) rebasing() bool {
	return isDir(filepath.Join(h.Checkout.GitDir, "rebase-merge")) || isDir(filepath.Join(h.Checkout.GitDir, "rebase-apply"))
}
