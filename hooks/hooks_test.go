package hooks

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// git runs the real git CLI in dir with a private configuration.
func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL="+filepath.Join(t.TempDir(), "gitconfig"),
		"GIT_CONFIG_NOSYSTEM=1", "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.org")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "git %v: %s", args, out)
	return string(out)
}

// newRepo makes a repo with two commits on main and a branch "other".
func newRepo(t *testing.T) string {
	dir := t.TempDir()
	git(t, dir, "init", "-q", "-b", "main")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a"), []byte("1"), 0o644))
	git(t, dir, "add", "a")
	git(t, dir, "commit", "-qm", "one")
	git(t, dir, "branch", "other")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a"), []byte("2"), 0o644))
	git(t, dir, "commit", "-qam", "two")
	return dir
}

// fakeTrail writes a stand-in for the trail binary that logs its arguments
// and exits with code.
func fakeTrail(t *testing.T, log string, code int) string {
	p := filepath.Join(t.TempDir(), "trail it")
	script := "#!/bin/sh\necho \"trail $*\" >> '" + log + "'\nexit " + string(rune('0'+code)) + "\n"
	require.NoError(t, os.WriteFile(p, []byte(script), 0o755))
	return p
}

func readLog(t *testing.T, log string) []string {
	data, err := os.ReadFile(log)
	require.NoError(t, err)
	return strings.Split(strings.TrimSpace(string(data)), "\n")
}

func TestHooksFireAndChain(t *testing.T) {
	tests := map[string]struct {
		hooksPath string // core.hooksPath, "" for .git/hooks
		trailExit int
	}{
		"default hooks dir": {"", 0},
		"core.hooksPath":    {"githooks", 0},
		"trail fails":       {"", 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			repo := newRepo(t)
			if tc.hooksPath != "" {
				git(t, repo, "config", "core.hooksPath", tc.hooksPath)
			}
			dir, err := Dir(repo)
			require.NoError(t, err)
			if tc.hooksPath != "" {
				require.Equal(t, filepath.Join(repo, tc.hooksPath), dir)
			}
			log := filepath.Join(t.TempDir(), "log")
			require.NoError(t, os.MkdirAll(dir, 0o755))
			user := "#!/bin/sh\necho \"user $*\" >> '" + log + "'\n"
			require.NoError(t, os.WriteFile(filepath.Join(dir, "post-checkout"), []byte(user), 0o755))

			require.NoError(t, Install(repo, fakeTrail(t, log, tc.trailExit)))
			require.NoError(t, Install(repo, fakeTrail(t, log, tc.trailExit)), "a second install must be idempotent")

			git(t, repo, "checkout", "-q", "other") // must succeed even when trail fails
			lines := readLog(t, log)
			require.Len(t, lines, 2, "%q", lines)
			require.True(t, strings.HasPrefix(lines[0], "user "), "the chained hook runs first: %q", lines)
			require.True(t, strings.HasPrefix(lines[1], "trail hook post-checkout "), "then trail: %q", lines)
			require.True(t, strings.HasSuffix(lines[1], " 1"), "branch checkout flag passed on: %q", lines[1])

			require.NoError(t, Uninstall(repo))
			data, err := os.ReadFile(filepath.Join(dir, "post-checkout"))
			require.NoError(t, err)
			require.Equal(t, user, string(data), "uninstall restores the user's hook")
			_, err = os.Stat(filepath.Join(dir, "post-merge"))
			require.True(t, os.IsNotExist(err), "trail's own hooks are removed")
		})
	}
}

func TestInstallRefusesTwoUserHooks(t *testing.T) {
	repo := newRepo(t)
	dir, err := Dir(repo)
	require.NoError(t, err)
	for _, f := range []string{"post-merge", "post-merge" + chainedSuffix} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), []byte("#!/bin/sh\n"), 0o755))
	}
	err = Install(repo, "/bin/true")
	require.ErrorContains(t, err, "merge them by hand")
	data, _ := os.ReadFile(filepath.Join(dir, "post-merge"))
	require.Equal(t, "#!/bin/sh\n", string(data), "the user's hook is untouched")
}

func TestPostRewriteGetsStdinAfterChain(t *testing.T) {
	repo := newRepo(t)
	dir, err := Dir(repo)
	require.NoError(t, err)
	log := filepath.Join(t.TempDir(), "log")
	user := "#!/bin/sh\necho \"user $* $(wc -l)\" >> '" + log + "'\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "post-rewrite"), []byte(user), 0o755))
	tr := filepath.Join(t.TempDir(), "trail")
	require.NoError(t, os.WriteFile(tr, []byte("#!/bin/sh\necho \"trail $* $(wc -l)\" >> '"+log+"'\n"), 0o755))
	require.NoError(t, Install(repo, tr))
	git(t, repo, "commit", "-q", "--amend", "-m", "two, amended")
	require.Equal(t, []string{"user amend 1", "trail hook post-rewrite amend 1"}, readLog(t, log))
}
