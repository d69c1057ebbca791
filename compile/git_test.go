package compile

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"trail/gitrepo"
	"trail/gitrepo/gittest"
	"trail/stepfmt"
)

const gitConfig = `
variable "greeting" {
  default = "v1"
}

file "/etc/motd" {
  content = "${var.greeting} on ${host.hostname}\n"
}

tree "www" {
  path   = "/srv/www"
  source = "www"
}
`

// TestCompileFromGit compiles two commits of a real repository through
// git objects while the work tree sits at the second commit with
// uncommitted edits, and checks that the work tree and index are untouched,
// that each commit compiles to its own content, and that a checkout of the
// same commit compiled from the directory gives the same list.
func TestCompileFromGit(t *testing.T) {
	g := gittest.New(t)
	g.Write(map[string]string{
		"main.hcl":       gitConfig,
		"www/index.html": "<h1>one</h1>\n",
		"www/old.html":   "old\n",
		"www/run.sh":     "#!/bin/sh\n",
	})
	if err := os.Chmod(filepath.Join(g.Dir, "www/run.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("index.html", filepath.Join(g.Dir, "www/home.html")); err != nil {
		t.Fatal(err)
	}
	first := g.Commit("first")
	g.Write(map[string]string{
		"main.hcl":       strings.Replace(gitConfig, `"v1"`, `"v2"`, 1),
		"www/new.html":   "new\n",
		"www/index.html": "<h1>two</h1>\n",
	})
	g.Remove("www/old.html")
	second := g.Commit("second")

	// Leave the work tree dirty: a broken config nobody committed.
	g.Write(map[string]string{"main.hcl": "this is not { valid HCL"})
	status := g.Git("status", "--porcelain")
	index, err := os.ReadFile(filepath.Join(g.Dir, ".git/index"))
	if err != nil {
		t.Fatal(err)
	}

	repo, err := gitrepo.Open(g.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	compileAt := func(rev string) *Result {
		t.Helper()
		hash, err := repo.Resolve(rev)
		if err != nil {
			t.Fatal(err)
		}
		fsys, err := repo.Tree(hash)
		if err != nil {
			t.Fatal(err)
		}
		res, diags := Compile(fsys, testFacts(), Options{Commit: hash})
		if diags.HasErrors() {
			t.Fatalf("compile %s:\n%s", rev, strings.Join(Lines(diags), "\n"))
		}
		checkInvariants(t, res, diags)
		if res.List.Header.Commit != hash || res.List.Header.Host != "web1" {
			t.Errorf("header = %+v", res.List.Header)
		}
		return res
	}
	one, two := compileAt(first), compileAt("main")
	if two.List.Header.Commit != second {
		t.Errorf("main resolved to %s, want %s", two.List.Header.Commit, second)
	}

	steps := func(r *Result) map[string]*stepfmt.Step {
		m := map[string]*stepfmt.Step{}
		for _, st := range r.List.Steps {
			m[st.Target] = st
		}
		return m
	}
	s1, s2 := steps(one), steps(two)
	if got := string(one.Blobs[s1["/etc/motd"].Value("content")]); got != "v1 on web1\n" {
		t.Errorf("motd at first = %q", got)
	}
	if got := string(two.Blobs[s2["/etc/motd"].Value("content")]); got != "v2 on web1\n" {
		t.Errorf("motd at second = %q", got)
	}
	if s1["/srv/www/old.html"] == nil || s2["/srv/www/old.html"] != nil {
		t.Error("old.html should be in the first commit's steps only: files removed from the repo leave the list")
	}
	if s1["/srv/www/new.html"] != nil || s2["/srv/www/new.html"] == nil {
		t.Error("new.html should be in the second commit's steps only")
	}
	if m := s2["/srv/www/run.sh"].Value("mode"); m != "0755" {
		t.Errorf("executable repo file got mode %s, want 0755", m)
	}
	if m := s2["/srv/www/index.html"].Value("mode"); m != "0644" {
		t.Errorf("regular repo file got mode %s, want 0644", m)
	}
	if l := s2["/srv/www/home.html"]; l == nil || l.Kind != stepfmt.KindLink || l.Value("to") != "index.html" {
		t.Errorf("repo symlink compiled to %v, want LINK to index.html", l)
	}
	plan := stepfmt.Diff(one.List.Steps, two.List.Steps)
	if plan.Count(stepfmt.OpRemove) != 1 || plan.Count(stepfmt.OpAdd) != 1 || plan.Count(stepfmt.OpModify) != 2 {
		t.Errorf("plan first→second: %d removes, %d adds, %d modifies; want 1, 1, 2",
			plan.Count(stepfmt.OpRemove), plan.Count(stepfmt.OpAdd), plan.Count(stepfmt.OpModify))
	}

	if again := compileAt(first); !bytes.Equal(stepfmt.Format(again.List), stepfmt.Format(one.List)) {
		t.Error("compiling the same commit twice gave different lists")
	}

	if s := g.Git("status", "--porcelain"); s != status {
		t.Errorf("work tree status changed:\n%s\nwas\n%s", s, status)
	}
	if after, err := os.ReadFile(filepath.Join(g.Dir, ".git/index")); err != nil || !bytes.Equal(after, index) {
		t.Errorf("the index changed (%v)", err)
	}
	if data, _ := os.ReadFile(filepath.Join(g.Dir, "main.hcl")); string(data) != "this is not { valid HCL" {
		t.Errorf("work tree file changed: %q", data)
	}

	// The same commit from a plain directory compiles to the same list.
	co := filepath.Join(t.TempDir(), "co")
	g.Git("worktree", "add", "-q", "--detach", co, first)
	fromDir, diags := Compile(os.DirFS(co), testFacts(), Options{Commit: first})
	checkInvariants(t, fromDir, diags)
	if diags.HasErrors() {
		t.Fatal(strings.Join(Lines(diags), "\n"))
	}
	if a, b := stepfmt.Format(fromDir.List), stepfmt.Format(one.List); !bytes.Equal(a, b) {
		t.Errorf("directory and git object compiles differ:\n%s\nvs\n%s", a, b)
	}
}
