package main

import (
	"fmt"
	"io"
	"strconv"

	"trail/host"
)

func runPull(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("pull", "", stderr)
	dir := hostFlags(fs)
	if fs.Parse(args) != nil || fs.NArg() != 0 {
		fs.Usage()
		return 2
	}
	h, ok := openHost(*dir, stdout, stderr)
	if !ok {
		return 2
	}
	defer h.Close()
	ctx, stop := signalContext()
	defer stop()
	if _, err := h.Pull(ctx); err != nil {
		printErr(stderr, err)
		return 1
	}
	return 0
}

func runRollback(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("rollback", "[N]", stderr)
	dir := hostFlags(fs)
	if fs.Parse(args) != nil || fs.NArg() > 1 {
		fs.Usage()
		return 2
	}
	n := 1
	if fs.NArg() == 1 {
		v, err := strconv.Atoi(fs.Arg(0))
		if err != nil || v < 1 {
			fmt.Fprintf(stderr, "trail: rollback %q: N counts good generations back, from 1\n", fs.Arg(0))
			return 2
		}
		n = v
	}
	h, ok := openHost(*dir, stdout, stderr)
	if !ok {
		return 2
	}
	defer h.Close()
	head, err := h.Checkout.ReadHead()
	if err != nil {
		fmt.Fprintf(stderr, "trail: %v\n", err)
		return 2
	}
	ctx, stop := signalContext()
	defer stop()
	g, err := h.Rollback(ctx, n)
	if err != nil {
		printErr(stderr, err)
		return 1
	}
	fmt.Fprintf(stdout, "trail: pinned at %s (generation %d, %q)\n", host.Short(g.Commit), g.Number, g.Subject)
	release := "git checkout BRANCH"
	if head.Branch != "" {
		release = "git checkout " + head.Branch
	}
	fmt.Fprintf(stdout, "trail: 'trail pull' leaves a pin alone; '%s' releases it and applies the branch again\n", release)
	if st, err := h.Status(); err == nil && st.LastError != nil && st.LastError.Commit == g.Commit {
		return 1
	}
	return 0
}
