package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"trail/compile"
	"trail/gitrepo"
	"trail/stepfmt"
)

// runSteps prints the step list REV compiles to, each step with its source.
func runSteps(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("steps", "[REV]", stderr)
	dir := hostFlags(fs)
	h, rev, ok := revHost(fs, dir, args, stdout, stderr)
	if !ok {
		return 2
	}
	defer h.Close()
	c, err := h.Compile(rev)
	if err != nil {
		printErr(stderr, err)
		return 1
	}
	_ = stepfmt.Print(stdout, c.List)
	return 0
}

// runValidate compiles a config directory (not a commit: the config repo's
// own CI runs it on a work tree) for a host, and prints the diagnostics.
// The directory is read by the rules a commit is read by (gitrepo.DirFS),
// so validate refuses what apply of the commit would refuse.
func runValidate(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("validate", "[DIR]", stderr)
	hostname := fs.String("hostname", "", "compile for this host name (default: this machine's)")
	root := fs.String("root", "/", "gather the other facts from this root")
	quiet := fs.Bool("q", false, "print only diagnostics, not the steps")
	var facts, vars []string
	fs.Func("fact", "set a fact, NAME=VALUE (repeatable), e.g. -fact arch=arm64", func(v string) error { facts = append(facts, v); return nil })
	fs.Func("var", "set a variable, NAME=VALUE (repeatable)", func(v string) error { vars = append(vars, v); return nil })
	if fs.Parse(args) != nil || fs.NArg() > 1 {
		fs.Usage()
		return 2
	}
	dir := "."
	if fs.NArg() == 1 {
		dir = fs.Arg(0)
	}
	f, err := compile.GatherFacts(*root)
	if err != nil {
		fmt.Fprintf(stderr, "trail: %v\n", err)
		return 2
	}
	if *hostname != "" {
		facts = append([]string{"hostname=" + *hostname}, facts...)
	}
	for _, kv := range facts {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			fmt.Fprintf(stderr, "trail: -fact %q: want NAME=VALUE\n", kv)
			return 2
		}
		if err := f.Set(k, v); err != nil {
			fmt.Fprintf(stderr, "trail: -fact %s: %v\n", k, err)
			return 2
		}
	}
	opts := compile.Options{Vars: map[string]string{}}
	for _, kv := range vars {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			fmt.Fprintf(stderr, "trail: -var %q: want NAME=VALUE\n", kv)
			return 2
		}
		opts.Vars[k] = v
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		fmt.Fprintf(stderr, "trail: %v\n", err)
		return 2
	}
	res, diags := compile.Compile(gitrepo.DirFS(abs), f, opts)
	if len(diags) > 0 {
		_ = res.WriteDiagnostics(stderr, diags, 100, false)
	}
	if diags.HasErrors() {
		fmt.Fprintf(stderr, "trail: %s: %d error(s)\n", dir, len(diags.Errs()))
		return 1
	}
	if !*quiet {
		_ = stepfmt.Print(stdout, res.List)
	}
	fmt.Fprintf(stderr, "trail: %s compiles for %s: %d steps\n", dir, f.Hostname, len(res.List.Steps))
	return 0
}
