package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"trail": func() { os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs the CLI end to end from testdata/script/*.txtar: real
// git commands fire the real installed hooks against --root sandboxes.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:   "testdata/script",
		Setup: gitSetup,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"commit": cmdCommit,
			"exits":  cmdExits,
			"repeat": cmdRepeat,
			// secrets.go's commands
			"agekey":     cmdAgeKey,
			"ageencrypt": cmdAgeEncrypt,
			"secretfree": cmdSecretFree,
		},
	})
}

// gitSetup gives git a config of its own (HOME is not usable in a script)
// and the scripts a sandbox root with the accounts owners resolve in.
func gitSetup(env *testscript.Env) error {
	cfg := filepath.Join(env.WorkDir, ".gitconfig")
	if err := os.WriteFile(cfg, []byte(gitConfig), 0o644); err != nil {
		return err
	}
	env.Setenv("GIT_CONFIG_GLOBAL", cfg)
	env.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	for _, d := range []string{"root/etc", "root/srv"} {
		if err := os.MkdirAll(filepath.Join(env.WorkDir, d), 0o755); err != nil {
			return err
		}
	}
	for name, data := range map[string]string{
		"root/etc/passwd":   "root:x:0:0:root:/root:/bin/sh\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n",
		"root/etc/group":    "root:x:0:\nwww-data:x:33:\n",
		"root/etc/hostname": "web1\n",
	} {
		if err := os.WriteFile(filepath.Join(env.WorkDir, name), []byte(data), 0o644); err != nil {
			return err
		}
	}
	return nil
}

const gitConfig = `[user]
	name = Trail Test
	email = test@example.org
[init]
	defaultBranch = main
[advice]
	detachedHead = false
[pull]
	ff = only
`

// cmdCommit commits everything in a work tree and pushes it:
// commit DIR MESSAGE.
func cmdCommit(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: commit DIR MESSAGE")
	}
	dir := ts.MkAbs(args[0])
	for _, a := range [][]string{{"add", "-A"}, {"commit", "-q", "-m", args[1]}, {"push", "-q", "origin", "HEAD"}} {
		cmd := exec.Command("git", append([]string{"-C", dir}, a...)...)
		cmd.Env = scriptEnv(ts)
		out, err := cmd.CombinedOutput()
		if err != nil {
			ts.Fatalf("git %s: %v\n%s", strings.Join(a, " "), err, out)
		}
	}
}

// cmdExits runs a program and checks its exit code: exits N PROG ARGS...
// (testscript's exec only tells zero from non-zero; status's codes matter).
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 || neg {
		ts.Fatalf("usage: exits CODE PROGRAM [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	cmd := exec.Command(args[1], args[2:]...)
	cmd.Dir = ts.MkAbs(".")
	cmd.Env = scriptEnv(ts)
	out, _ := cmd.CombinedOutput()
	if got := cmd.ProcessState.ExitCode(); got != want {
		ts.Fatalf("%s exited %d, want %d:\n%s", strings.Join(args[1:], " "), got, want, out)
	}
}

// scriptEnv is the environment for a program a custom command runs: the
// script's git config and PATH.
func scriptEnv(ts *testscript.TestScript) []string {
	env := append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+ts.Getenv("GIT_CONFIG_GLOBAL"), "PATH="+ts.Getenv("PATH"))
	if g := ts.Getenv("GNUPGHOME"); g != "" {
		// A script's own keys sign its commits.
		env = append(env, "GNUPGHOME="+g)
	}
	return env
}

// cmdRepeat appends TEXT repeated N times to FILE, for inputs too big to
// keep in a script: repeat FILE N TEXT.
func cmdRepeat(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 || neg {
		ts.Fatalf("usage: repeat FILE N TEXT")
	}
	n, err := strconv.Atoi(args[1])
	if err != nil {
		ts.Fatalf("repeat: %v", err)
	}
	f, err := os.OpenFile(ts.MkAbs(args[0]), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	ts.Check(err)
	_, err = f.WriteString(strings.Repeat(args[2], n))
	ts.Check(errors.Join(err, f.Close()))
}
