package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"trail/host"
)

// runStatus prints the host's status; its exit code is the Nagios level:
// 0 ok, 1 warning, 2 critical (3, unknown, when it cannot tell).
func runStatus(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("status", "", stderr)
	dir := hostFlags(fs)
	asJSON := fs.Bool("json", false, "print the status as JSON")
	if fs.Parse(args) != nil || fs.NArg() != 0 {
		fs.Usage()
		return 3
	}
	h, ok := openHost(*dir, stdout, stderr)
	if !ok {
		return 3
	}
	defer h.Close()
	s, err := h.Status()
	if err != nil {
		fmt.Fprintf(stdout, "TRAIL UNKNOWN: %v\n", err)
		return 3
	}
	h.WriteMetrics(s)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(s)
		return s.Level
	}
	printStatus(stdout, s)
	return s.Level
}

func printStatus(w io.Writer, s *host.Status) {
	summary := "applied " + host.Short(s.Head)
	if s.Applied != nil {
		summary = fmt.Sprintf("applied %s (generation %d)", host.Short(s.Applied.Commit), s.Applied.Generation)
	} else {
		summary = "nothing applied"
	}
	if len(s.Problems) > 0 {
		summary += ": " + strings.Join(s.Problems, "; ")
	}
	fmt.Fprintf(w, "TRAIL %s - %s\n", strings.ToUpper(s.State), summary)
	row := func(k, v string) { fmt.Fprintf(w, "  %-10s %s\n", k+":", v) }
	if a := s.Applied; a != nil {
		row("applied", fmt.Sprintf("%s generation %d, %s, %q", host.Short(a.Commit), a.Generation, a.Time.Format("2006-01-02 15:04:05"), a.Subject))
	}
	switch {
	case s.Pinned:
		row("HEAD", host.Short(s.Head)+" (pinned: detached HEAD; 'git checkout BRANCH' releases it)")
	default:
		row("HEAD", host.Short(s.Head)+" on "+s.Branch)
	}
	if s.Upstream != "" {
		row("upstream", fmt.Sprintf("%s at %s, %d behind, %d ahead", s.Upstream, host.Short(s.UpstreamAt), s.Behind, s.Ahead))
	}
	drift := "none"
	if n := len(s.Drift); n > 0 {
		drift = fmt.Sprintf("%d target(s)", n)
	}
	row("drift", drift)
	for _, d := range s.Drift {
		what := strings.Join(d.Changed, ", ")
		if d.Error != "" {
			what = d.Error
		}
		fmt.Fprintf(w, "    %s: %s (policy %s)\n", host.AbbrevHashes(d.Step), host.AbbrevHashes(what), d.Policy)
	}
	if f := s.LastError; f != nil {
		where := ""
		if f.Source != "" {
			where = " at " + f.Source
		}
		row("error", fmt.Sprintf("%s%s, %s: %s", host.Short(f.Commit), where, f.Time.Format("2006-01-02 15:04:05"), f.Error))
	}
	row("root", s.Root)
	row("state", s.StateDir)
}
