package main

import (
	"encoding/json"
	"fmt"
	"io"

	"trail/apply"
	"trail/host"
	"trail/stepfmt"
)

type jsonPlanChange struct {
	Op      string   `json:"op"`
	Step    string   `json:"step"`
	Source  string   `json:"source,omitempty"`
	Changed []string `json:"changed,omitempty"`
	Work    []string `json:"work"`
	Notes   []string `json:"notes,omitempty"`
	// Diff is a FILE or EDIT step's content change (host.ContentDiff).
	Diff string `json:"diff,omitempty"`
}

// jsonPlanRestart is a unit the apply would restart or reload.
type jsonPlanRestart struct {
	Step   string   `json:"step"`
	Source string   `json:"source,omitempty"`
	Work   []string `json:"work"`
	Notes  []string `json:"notes,omitempty"`
}

type jsonPlan struct {
	Commit    string            `json:"commit"`
	From      int               `json:"from_generation"`
	Pending   bool              `json:"pending"`
	Changes   []jsonPlanChange  `json:"changes"`
	Restarts  []jsonPlanRestart `json:"restarts"`
	Unchanged int               `json:"unchanged"`
}

// runPlan prints what applying REV would do. Exit 0: nothing to do; 1:
// changes pending; 2: the plan could not be made.
func runPlan(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("plan", "[REV]", stderr)
	dir := hostFlags(fs)
	asJSON := fs.Bool("json", false, "print the plan as JSON")
	diffLines := fs.Int("diff-lines", 100, "show at most this many lines of each changed file's content diff (0: none)")
	h, rev, ok := revHost(fs, dir, args, stdout, stderr)
	if !ok {
		return 2
	}
	defer h.Close()
	p, c, err := h.Plan(rev)
	if err != nil {
		printErr(stderr, err)
		return 2
	}
	pending := false
	for _, w := range p.Work {
		if !w.None() {
			pending = true
		}
	}
	// diffs[i] is Changes[i]'s content diff, for a FILE or EDIT step that runs.
	diffs := make([]string, len(p.Changes))
	for i, ch := range p.Changes {
		if *diffLines > 0 && ch.Op != stepfmt.OpRemove && !p.Work[i].None() {
			diffs[i] = h.ContentDiff(p, i, c, *diffLines)
		}
	}
	if *asJSON {
		out := jsonPlan{Commit: c.Commit.Hash, From: p.From, Pending: pending, Changes: []jsonPlanChange{},
			Restarts: []jsonPlanRestart{}, Unchanged: p.Unchanged}
		for i, ch := range p.Changes {
			s := *stepfmt.Masked(ch.Step)
			s.Src = stepfmt.Source{}
			out.Changes = append(out.Changes, jsonPlanChange{ch.Op.String(), s.String(), ch.Step.Src.String(), ch.Changed,
				append([]string{}, p.Work[i].Changes...), p.Work[i].Notes, diffs[i]})
		}
		for _, r := range p.Restarts {
			s := *stepfmt.Masked(r.Step)
			s.Src = stepfmt.Source{}
			out.Restarts = append(out.Restarts, jsonPlanRestart{s.String(), r.Step.Src.String(),
				append([]string{}, r.Work.Changes...), r.Work.Notes})
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(out)
	} else {
		fmt.Fprintf(stdout, "plan: %s %q from generation %d\n", host.Short(c.Commit.Hash), c.Commit.Subject, p.From)
		_ = apply.PrintPlan(stdout, p)
		for _, d := range diffs {
			if d != "" {
				fmt.Fprint(stdout, "\n"+d)
			}
		}
		if !pending {
			fmt.Fprintln(stdout, "nothing to do: the host matches")
		}
	}
	if pending {
		return 1
	}
	return 0
}
