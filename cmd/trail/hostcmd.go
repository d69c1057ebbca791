package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"trail/host"
)

// hostFlags adds the flags every command on a checkout takes.
func hostFlags(fs *flag.FlagSet) *string {
	return fs.String("C", ".", "the config checkout (any directory inside it)")
}

// openHost opens the checkout, printing why it cannot.
func openHost(dir string, stdout, stderr io.Writer) (*host.Host, bool) {
	h, err := host.Open(dir, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "trail: %v\n", err)
		return nil, false
	}
	return h, true
}

// printErr prints err for people: a config that does not compile with its
// diagnostics and snippets, anything else on one line.
func printErr(stderr io.Writer, err error) {
	var ce *host.CompileError
	if errors.As(err, &ce) {
		fmt.Fprintf(stderr, "trail: %s does not compile; nothing was changed:\n", host.Short(ce.Commit))
		_ = ce.Result.WriteDiagnostics(stderr, ce.Diags, 100, false)
		return
	}
	fmt.Fprintf(stderr, "trail: %v\n", err)
}

// signalContext is cancelled by SIGINT or SIGTERM; the engine finishes
// the step it is in and undoes the apply.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// revHost parses the flags of a command taking an optional revision
// (default HEAD) and opens the checkout; false means it printed why not.
func revHost(fs *flag.FlagSet, dir *string, args []string, stdout, stderr io.Writer) (*host.Host, string, bool) {
	if fs.Parse(args) != nil || fs.NArg() > 1 {
		fs.Usage()
		return nil, "", false
	}
	rev := "HEAD"
	if fs.NArg() == 1 {
		rev = fs.Arg(0)
	}
	h, ok := openHost(*dir, stdout, stderr)
	return h, rev, ok
}
