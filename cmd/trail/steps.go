package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"trail/stepfmt"
)

func newFlags(name, args string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	printed := false
	fs.Usage = func() {
		// Parse prints it on a bad flag, and the caller again: once is enough.
		if printed {
			return
		}
		printed = true
		fmt.Fprintf(stderr, "usage: trail %s [flags] %s\n", name, args)
		fs.PrintDefaults()
	}
	return fs
}

// loadSteps reads, resolves and validates a step file, printing every error.
func loadSteps(path string, exec bool, stderr io.Writer) (*stepfmt.List, bool) {
	l, errs := stepfmt.Load(path, stepfmt.LoadOptions{Exec: exec})
	errs = append(errs, stepfmt.Validate(l)...)
	for _, e := range errs {
		fmt.Fprintln(stderr, e)
	}
	return l, len(errs) == 0
}

func runCheckSteps(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("check-steps", "FILE...", stderr)
	exec := fs.Bool("exec", false, "run executable INCLUDE generators")
	quiet := fs.Bool("q", false, "print only errors")
	if fs.Parse(args) != nil || fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	code := 0
	for _, path := range fs.Args() {
		l, ok := loadSteps(path, *exec, stderr)
		if !ok {
			code = 1
			continue
		}
		if !*quiet {
			_ = stepfmt.Print(stdout, l)
		}
	}
	return code
}

type jsonChange struct {
	Op      string   `json:"op"`
	Step    string   `json:"step"`
	Source  string   `json:"source,omitempty"`
	Changed []string `json:"changed,omitempty"`
}

func runDiffSteps(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("diff-steps", "OLD NEW", stderr)
	asJSON := fs.Bool("json", false, "print the plan as JSON")
	if fs.Parse(args) != nil || fs.NArg() != 2 {
		fs.Usage()
		return 2
	}
	old, ok1 := loadSteps(fs.Arg(0), false, stderr)
	new, ok2 := loadSteps(fs.Arg(1), false, stderr)
	if !ok1 || !ok2 {
		return 2
	}
	plan := stepfmt.Diff(old.Steps, new.Steps)
	if *asJSON {
		out := make([]jsonChange, 0, len(plan.Changes))
		for _, c := range plan.Changes {
			s := *stepfmt.Masked(c.Step)
			s.Src = stepfmt.Source{}
			out = append(out, jsonChange{c.Op.String(), s.String(), c.Step.Src.String(), c.Changed})
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(out)
	} else {
		_ = stepfmt.PrintPlan(stdout, plan)
		fmt.Fprintf(stdout, "%d to reverse, %d to add, %d to modify, %d unchanged\n",
			plan.Count(stepfmt.OpRemove), plan.Count(stepfmt.OpAdd), plan.Count(stepfmt.OpModify), plan.Unchanged)
	}
	if plan.Empty() {
		return 0
	}
	return 1
}
