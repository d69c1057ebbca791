package main

import (
	"fmt"
	"io"

	"trail/host"
)

func runApply(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("apply", "[REV]", stderr)
	dir := hostFlags(fs)
	force := fs.Bool("force", false, "check every target against the machine and put back what drifted, whatever its drift policy (even when REV is the applied commit)")
	mass := fs.Bool("allow-mass-removal", false, "allow removing more than half of the managed targets")
	h, rev, ok := revHost(fs, dir, args, stdout, stderr)
	if !ok {
		return 2
	}
	named := fs.NArg() == 1
	defer h.Close()
	h.AllowMassRemoval = *mass
	ctx, stop := signalContext()
	defer stop()
	// A commit named on the command line is the admin's choice; a bare
	// apply takes HEAD as it came.
	out, err := h.Apply(ctx, host.ApplyOptions{Rev: rev, Force: *force, Deliberate: named})
	if err != nil {
		printErr(stderr, err)
		return 1
	}
	if out.NoOp {
		fmt.Fprintf(stdout, "trail: %s is applied; nothing to do\n", host.Short(out.Commit))
	}
	if head, err := h.Checkout.ReadHead(); err == nil && head.Commit != out.Commit {
		fmt.Fprintf(stdout, "trail: note: HEAD is at %s; the next pull or hook applies HEAD again (to stay, 'git checkout %s')\n", host.Short(head.Commit), host.Short(out.Commit))
	}
	return 0
}
