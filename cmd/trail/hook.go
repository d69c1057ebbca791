package main

import (
	"io"
)

// runHook is what the installed git hooks run: `trail hook NAME ARGS...`.
// It exits 0 whatever trail's own outcome (git has already moved HEAD);
// only a hook that cannot find its checkout says so, and exits 0 too.
func runHook(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		io.WriteString(stderr, "usage: trail hook NAME [ARGS...] (run by the git hooks trail init installs)\n")
		return 2
	}
	h, ok := openHost(".", stdout, stderr)
	if !ok {
		return 0
	}
	defer h.Close()
	ctx, stop := signalContext()
	defer stop()
	if err := h.Hook(ctx, args[0], args[1:]); err != nil {
		printErr(stderr, err)
		io.WriteString(stderr, "trail: the host stays at its last good generation; 'trail status' shows the error\n")
	}
	return 0
}
