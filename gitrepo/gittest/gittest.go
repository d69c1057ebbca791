// Package gittest builds scratch git repositories for tests with the real
// git CLI. Each repository gets its own global config file (GIT_CONFIG_GLOBAL)
// with a fixed identity and no automatic gc, and the system config is ignored, so tests never
// read or write the machine's git settings.
package gittest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Repo is a scratch repository in a temporary directory.
type Repo struct {
	t   testing.TB
	Dir string
	env []string
}

// New runs git init in a fresh temporary directory, on branch main.
func New(t testing.TB) *Repo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	home := t.TempDir()
	cfg := filepath.Join(home, "gitconfig")
	conf := "[user]\n\tname = Trail Test\n\temail = test@example.org\n" +
		"[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n" +
		"[protocol \"file\"]\n\tallow = always\n[gc]\n\tauto = 0\n[maintenance]\n\tauto = false\n"
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	r := &Repo{t: t, Dir: t.TempDir(), env: append(os.Environ(),
		"GIT_CONFIG_GLOBAL="+cfg, "GIT_CONFIG_NOSYSTEM=1", "HOME="+home,
		"GIT_AUTHOR_DATE=2024-01-02T03:04:05Z", "GIT_COMMITTER_DATE=2024-01-02T03:04:05Z",
		"LC_ALL=C")}
	r.Git("init", "-q")
	return r
}

// Env is the environment the repository's git commands run with.
func (r *Repo) Env() []string { return r.env }

// Git runs git in the repository and returns its trimmed standard output;
// a failure fails the test.
func (r *Repo) Git(args ...string) string {
	r.t.Helper()
	return strings.TrimSpace(string(r.GitIn(nil, args...)))
}

// GitIn runs git with stdin and returns its raw standard output.
func (r *Repo) GitIn(stdin []byte, args ...string) []byte {
	r.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = r.Dir
	cmd.Env = r.env
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		r.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.Bytes()
}

// Write writes files (slash-separated names relative to the work tree),
// creating directories as needed.
func (r *Repo) Write(files map[string]string) {
	r.t.Helper()
	WriteFiles(r.t, r.Dir, files)
}

// WriteFiles writes files (slash-separated names relative to dir, mode
// 0644), creating directories as needed: a work tree, or a git directory
// laid out by hand.
func WriteFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// Remove deletes files or directories from the work tree.
func (r *Repo) Remove(names ...string) {
	r.t.Helper()
	for _, name := range names {
		if err := os.RemoveAll(filepath.Join(r.Dir, filepath.FromSlash(name))); err != nil {
			r.t.Fatal(err)
		}
	}
}

// Commit stages everything in the work tree, commits it and returns the
// new commit's hash.
func (r *Repo) Commit(msg string) string {
	r.t.Helper()
	r.Git("add", "-A")
	r.Git("commit", "-q", "--allow-empty", "-m", msg)
	return r.Git("rev-parse", "HEAD")
}
