package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"trail/host"
)

func runLog(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("log", "", stderr)
	dir := hostFlags(fs)
	n := fs.Int("n", 0, "show at most N generations (0: all)")
	asJSON := fs.Bool("json", false, "print the generations as JSON")
	if fs.Parse(args) != nil || fs.NArg() != 0 {
		fs.Usage()
		return 2
	}
	h, ok := openHost(*dir, stdout, stderr)
	if !ok {
		return 2
	}
	defer h.Close()
	e, err := h.Engine()
	if err != nil {
		fmt.Fprintf(stderr, "trail: %v\n", err)
		return 2
	}
	gens, err := e.Generations()
	if err != nil {
		fmt.Fprintf(stderr, "trail: %v\n", err)
		return 2
	}
	if *n > 0 && len(gens) > *n {
		gens = gens[:*n]
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(gens)
		return 0
	}
	cur, _ := e.Current()
	for _, g := range gens {
		mark := " "
		if cur != nil && g.Number == cur.Number {
			mark = "*"
		}
		c := g.Counts
		fmt.Fprintf(stdout, "%s %4d  %s  %s  %-11s +%d ~%d -%d  %s\n", mark, g.Number, g.Start.Format("2006-01-02 15:04:05"),
			host.Short(g.Commit), g.Result, c.Added, c.Modified, c.Removed, g.Subject)
		if g.Error != "" {
			line, _, _ := strings.Cut(g.Error, "\n")
			fmt.Fprintf(stdout, "        %s\n", line)
		}
	}
	return 0
}
