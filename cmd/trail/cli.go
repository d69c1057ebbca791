package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// command is one subcommand: a one-line summary and its entry point, which
// parses its own flags and returns the process exit code.
type command struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

var commands = map[string]command{
	"init":        {"make this config checkout drive the host: hooks, settings, first apply", runInit},
	"plan":        {"show what applying a commit (default HEAD) would do", runPlan},
	"apply":       {"compile, plan and apply a commit (default HEAD)", runApply},
	"show":        {"print what trail would write at PATH on this host at a commit (default HEAD)", runShow},
	"steps":       {"print the step list a commit compiles to, with sources", runSteps},
	"validate":    {"compile a config directory for a host and report errors", runValidate},
	"status":      {"what the host runs and whether that is well (Nagios exit codes)", runStatus},
	"gc":          {"prune the state directory: old step lists and blobs nothing needs", runGC},
	"fsck":        {"check trail's state directory thoroughly: records, step lists, every blob's hash", runFsck},
	"log":         {"the generations applied, newest first", runLog},
	"rollback":    {"pin the checkout at the N-th previous good generation", runRollback},
	"pull":        {"fetch and fast-forward to the upstream (unless pinned; an upstream that is not a descendant of HEAD is refused), then apply HEAD if needed", runPull},
	"watch":       {"the drift watcher service: report or heal drift as it happens, pull on an interval", runWatch},
	"hook":        {"run by the git hooks trail init installs", runHook},
	"check-steps": {"parse and validate step files; print them canonically", runCheckSteps},
	"diff-steps":  {"show the plan that moves a host from one step file to another", runDiffSteps},
}

// Main runs trail with args (without the program name) and returns the exit
// code: 0 success, 1 changes pending or problems found, 2 usage or error.
func Main(args []string, stdout, stderr io.Writer) int {
	args, code := leadingDirs(args, stderr)
	if code != 0 {
		return code
	}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "trail: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
	code = cmd.run(args[1:], stdout, stderr)
	if len(args) > 1 && (args[1] == "-h" || args[1] == "-help" || args[1] == "--help") {
		return 0 // asked for: the usage is the answer, not an error
	}
	return code
}

// leadingDirs handles -C DIR given before the command, as git does: trail
// runs as if started in DIR (each -C taken from the one before), so that
// the command's own -C and relative paths start there. It returns the
// arguments from the command on, or an exit code.
func leadingDirs(args []string, stderr io.Writer) ([]string, int) {
	for len(args) > 0 {
		var dir string
		switch {
		case args[0] == "-C" || args[0] == "--C":
			if len(args) < 2 {
				fmt.Fprintln(stderr, "trail: -C needs a directory: trail -C DIR COMMAND")
				return nil, 2
			}
			dir, args = args[1], args[2:]
		case strings.HasPrefix(args[0], "-C="), strings.HasPrefix(args[0], "--C="):
			_, dir, _ = strings.Cut(args[0], "=")
			args = args[1:]
		default:
			return args, 0
		}
		if dir == "" {
			continue // git takes an empty -C as the current directory
		}
		if err := os.Chdir(dir); err != nil {
			fmt.Fprintf(stderr, "trail: -C %s: %v\n", dir, err)
			return nil, 2
		}
	}
	return args, 0
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: trail [-C DIR] COMMAND [flags] [args]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'trail COMMAND -h' for a command's flags.")
}
