package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// flagLine is a flag as the flag package's usage prints it.
var flagLine = regexp.MustCompile(`(?m)^  (-[a-zA-Z][-a-zA-Z]*)`)

// flagsOf returns the flags command name takes, from its own -h.
func flagsOf(t *testing.T, name string) []string {
	t.Helper()
	var out bytes.Buffer
	Main([]string{name, "-h"}, &out, &out)
	var flags []string
	for _, m := range flagLine.FindAllStringSubmatch(out.String(), -1) {
		flags = append(flags, m[1])
	}
	return flags
}

// TestManualCoversCommands holds trail(1)'s source and the bash completion
// to the CLI: every command has its section in the manual and is
// completed, with every flag it takes.
func TestManualCoversCommands(t *testing.T) {
	man, err := os.ReadFile(filepath.Join("..", "..", "docs", "man", "trail.1.md"))
	if err != nil {
		t.Fatal(err)
	}
	completion, err := os.ReadFile(filepath.Join("..", "..", "dist", "completion", "trail"))
	if err != nil {
		t.Fatal(err)
	}
	cmds := regexp.MustCompile(`local commands="([^"]*)"`).FindSubmatch(completion)
	if cmds == nil {
		t.Fatal("dist/completion/trail has no line local commands=\"...\"")
	}
	completedCommands := strings.Fields(string(cmds[1]))
	sections := strings.Split(string(man), "\n### ")
	for name := range commands {
		t.Run(name, func(t *testing.T) {
			i := slices.IndexFunc(sections, func(s string) bool { return strings.HasPrefix(s, "trail "+name+"\n") })
			if i < 0 {
				t.Fatalf("docs/man/trail.1.md has no section \"### trail %s\"", name)
			}
			case_ := regexp.MustCompile(`(?m)^\t` + regexp.QuoteMeta(name) + `\) flags="([^"]*)"`).FindStringSubmatch(string(completion))
			if case_ == nil {
				t.Fatalf("dist/completion/trail has no line \"\t%s) flags=...\"", name)
			}
			if !slices.Contains(completedCommands, name) {
				t.Errorf("dist/completion/trail does not complete the command %s (local commands=...)", name)
			}
			completed := strings.Fields(case_[1])
			for _, f := range flagsOf(t, name) {
				if f != "-C" && !regexp.MustCompile(regexp.QuoteMeta(f)+`\b`).MatchString(sections[i]) {
					t.Errorf("docs/man/trail.1.md, section trail %s, does not mention %s", name, f)
				}
				if !slices.Contains(completed, f) {
					t.Errorf("dist/completion/trail does not complete %s for %s", f, name)
				}
			}
		})
	}
}
