package gitrepo

import (
	"strings"
	"testing"

	"trail/gitrepo/gittest"
)

func TestResolve(t *testing.T) {
	g := gittest.New(t)
	g.Write(map[string]string{"a.hcl": "one"})
	first := g.Commit("first commit\n\nwith a body")
	g.Write(map[string]string{"a.hcl": "two"})
	second := g.Commit("  second commit  ")
	g.Git("tag", "-a", "-m", "release", "v1", first)
	g.Git("tag", "light", second)
	g.Git("branch", "canary", first)

	r, err := Open(g.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	tests := map[string]struct {
		rev     string
		want    string
		wantErr string
	}{
		"head":           {rev: "HEAD", want: second},
		"branch":         {rev: "main", want: second},
		"other branch":   {rev: "canary", want: first},
		"annotated tag":  {rev: "v1", want: first},
		"light tag":      {rev: "light", want: second},
		"full hash":      {rev: first, want: first},
		"short hash":     {rev: first[:8], want: first},
		"parent":         {rev: "HEAD~1", want: first},
		"caret":          {rev: "main^", want: first},
		"unknown branch": {rev: "nope", wantErr: `resolve revision "nope": no such commit, branch or tag`},
		"empty":          {rev: "", wantErr: "empty revision"},
		"past the root":  {rev: "HEAD~5", wantErr: `resolve revision "HEAD~5"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := r.Resolve(tc.rev)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Resolve(%q) = %q, %v; want error containing %q", tc.rev, got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Resolve(%q) = %q, %v; want %q", tc.rev, got, err, tc.want)
			}
		})
	}

	c, err := r.Commit("HEAD~1")
	if err != nil {
		t.Fatal(err)
	}
	if c.Hash != first || c.Subject != "first commit" || c.Author != "Trail Test" || c.Email != "test@example.org" {
		t.Errorf("Commit(HEAD~1) = %+v", c)
	}
	if c.Time.UTC().Format("2006-01-02T15:04:05Z") != "2024-01-02T03:04:05Z" {
		t.Errorf("Commit time = %v", c.Time)
	}
	if s, err := r.Subject("HEAD"); err != nil || s != "second commit" {
		t.Errorf("Subject(HEAD) = %q, %v", s, err)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := Open(dir)
	if err == nil || !strings.Contains(err.Error(), "not a git repository") {
		t.Fatalf("Open(empty dir) = %v", err)
	}
}

func TestOpenBareAndWorktree(t *testing.T) {
	g := gittest.New(t)
	g.Write(map[string]string{"a.hcl": "one"})
	want := g.Commit("one")

	bare := t.TempDir() + "/bare.git"
	g.Git("clone", "-q", "--bare", g.Dir, bare)
	wt := t.TempDir() + "/wt"
	g.Git("worktree", "add", "-q", "--detach", wt, "HEAD")

	for name, dir := range map[string]string{"bare": bare, "worktree": wt} {
		t.Run(name, func(t *testing.T) {
			r, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			got, err := r.Resolve("HEAD")
			if err != nil || got != want {
				t.Fatalf("Resolve(HEAD) = %q, %v; want %q", got, err, want)
			}
		})
	}
}
