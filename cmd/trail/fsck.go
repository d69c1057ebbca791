package main

import (
	"encoding/json"
	"fmt"
	"io"

	"trail/apply"
)

// runFsck checks the state directory thoroughly; exit 0 when it is whole,
// 2 when it found problems (each with what to do), 3 when it cannot tell.
func runFsck(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("fsck", "", stderr)
	dir := hostFlags(fs)
	state := fs.String("state", "", "check this state directory (default: the checkout's)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if fs.Parse(args) != nil || fs.NArg() != 0 {
		fs.Usage()
		return 3
	}
	var rep *apply.FsckReport
	var err error
	if *state != "" {
		rep, err = apply.Fsck(*state)
	} else {
		h, ok := openHost(*dir, stdout, stderr)
		if !ok {
			return 3
		}
		defer h.Close()
		rep, err = h.Fsck()
	}
	if err != nil {
		fmt.Fprintf(stdout, "TRAIL FSCK UNKNOWN: %v\n", err)
		return 3
	}
	code := 0
	if !rep.OK() {
		code = 2
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
		return code
	}
	if rep.OK() {
		fmt.Fprintf(stdout, "TRAIL FSCK OK - %s: generation %d applied, %d managed target(s), %d generation(s), %d blob(s) hashed\n",
			rep.StateDir, rep.Applied, rep.Records, rep.Generations, rep.Blobs)
	} else {
		fmt.Fprintf(stdout, "TRAIL FSCK CRITICAL - %s: %d problem(s)\n", rep.StateDir, len(rep.Problems))
	}
	if rep.Holder != 0 {
		fmt.Fprintf(stdout, "  note: trail (pid %d) holds the lock: an apply runs, so what it writes may look unfinished\n", rep.Holder)
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(stdout, "  %s: %s\n    fix: %s\n", p.Where, p.Problem, p.Fix)
	}
	return code
}
