package main

import (
	"encoding/json"
	"fmt"
	"io"

	"trail/apply"
	"trail/apply/state"
)

// runGC prunes the state directory under the state lock: generations
// older than the newest --keep, and every blob neither the applied record,
// an interrupted apply's journal nor a kept generation's step list names.
func runGC(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("gc", "", stderr)
	dir := hostFlags(fs)
	keep := fs.Int("keep", state.DefaultKeep, "keep the newest N generations whole (records, step lists, their contents)")
	dry := fs.Bool("dry-run", false, "say what would be removed, remove nothing")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if fs.Parse(args) != nil || fs.NArg() != 0 {
		fs.Usage()
		return 2
	}
	if *keep < 1 {
		fmt.Fprintf(stderr, "trail gc: --keep %d: keep at least 1 (the applied generation is always kept)\n", *keep)
		return 2
	}
	h, ok := openHost(*dir, stdout, stderr)
	if !ok {
		return 2
	}
	defer h.Close()
	e, err := h.Engine()
	if err != nil {
		printErr(stderr, err)
		return 2
	}
	res, err := e.GC(*keep, *dry)
	if err != nil {
		printErr(stderr, err)
		return 2
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(struct {
			*apply.GCResult
			Freed int64 `json:"bytes_freed"`
		}{res, res.Freed()})
		return 0
	}
	verb := "removed"
	if *dry {
		verb = "would remove"
	}
	fmt.Fprintf(stdout, "trail gc: %s %d blob(s) and %d old step list(s), %s freed; %d blob(s) kept, state now %s\n",
		verb, res.Blobs, len(res.Generations), bytesText(res.Freed()), res.KeptBlobs, bytesText(res.StateBytes))
	return 0
}

// bytesText renders n bytes for people.
func bytesText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
