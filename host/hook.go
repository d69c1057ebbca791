package host

import (
	"context"
	"fmt"
	"path/filepath"
)

// Hook runs for the git hook name with its arguments. It trusts neither:
// a post-checkout of files only (third argument "0") is not a move of
// HEAD and does nothing; every other call applies HEAD when it is not the
// applied commit. The failure of an apply is recorded and reported like any
// other and returned for the caller to print; the caller must not fail git
// for it, since git has already moved HEAD.
func (h *Host) Hook(ctx context.Context, name string, args []string) error {
	switch name {
	case "post-checkout":
		if len(args) >= 3 && args[2] == "0" {
			return nil
		}
	case "post-merge", "post-rewrite":
	default:
		return fmt.Errorf("hook %q: trail runs for post-checkout, post-merge and post-rewrite", name)
	}
	out, err := h.Apply(ctx, ApplyOptions{Auto: true})
	if err != nil {
		return err
	}
	if out.Skipped != "" {
		fmt.Fprintf(h.Err, "trail: not applying: %s\n", out.Skipped)
	}
	return nil
}

func absPath(p string) (string, error) { return filepath.Abs(p) }
