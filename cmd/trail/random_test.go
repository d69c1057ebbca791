package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"trail/gitrepo/gittest"
)

// TestRandomCheckouts is path independence through git: a config repo with
// commits on two branches touching files, directories, symlinks and a tree;
// 200 random checkouts fire the real hooks; after each, the sandbox root
// must equal a fresh apply of the checked-out commit onto a copy of the
// initial root.
func TestRandomCheckouts(t *testing.T) {
	if testing.Short() {
		t.Skip("200 checkouts through real hooks: not in -short")
	}
	seed := uint64(20261124)
	rng := rand.New(rand.NewPCG(seed, seed))
	work := t.TempDir()
	g := newGitEnv(t, work)

	initial := filepath.Join(work, "initial")
	gittest.WriteFiles(t, initial, map[string]string{
		"etc/passwd":   "root:x:0:0:root:/root:/bin/sh\nwww-data:x:33:33::/var/www:/usr/sbin/nologin\n",
		"etc/group":    "root:x:0:\nwww-data:x:33:\n",
		"etc/hostname": "web1\n",
		"etc/motd":     "as installed\n",
		"srv/r/x":      "a file that was there before trail\n",
	})
	if err := os.Mkdir(filepath.Join(initial, "srv/r/e"), 0o700); err != nil {
		t.Fatal(err)
	}

	admin := filepath.Join(work, "admin")
	g.run("", "init", "-q", admin)
	var commits []string
	for i := range 24 {
		branch := "main"
		if i > 2 && rng.IntN(3) == 0 {
			branch = "side"
		}
		if i == 0 {
			g.run(admin, "checkout", "-q", "-b", "main")
		} else if i == 3 {
			g.run(admin, "branch", "side")
		}
		if i > 0 {
			g.run(admin, "checkout", "-q", branch)
		}
		randomConfig(t, rng, admin, i)
		g.run(admin, "add", "-A")
		g.run(admin, "commit", "-q", "--allow-empty", "-m", fmt.Sprintf("commit %d on %s", i, branch))
		commits = append(commits, strings.TrimSpace(g.run(admin, "rev-parse", "HEAD")))
	}
	g.run(admin, "checkout", "-q", "main")

	hostDir := filepath.Join(work, "host")
	g.run("", "clone", "-q", admin, hostDir)
	root := filepath.Join(work, "root")
	copyTree(t, initial, root)
	// The walk jumps between unrelated configs: removing most of what is
	// managed is what it means, not a broken compile.
	g.run(hostDir, "config", "trail.allowmassremoval", "true")
	g.trail(hostDir, "init", "--root", root, "--state", filepath.Join(work, "state"), "--metrics", "off", "--journal", "off")

	// A fresh apply of each commit, onto a copy of the initial root.
	fresh := map[string]map[string]string{}
	freshDir := filepath.Join(work, "fresh")
	g.run("", "clone", "-q", admin, freshDir)
	want := func(commit string) map[string]string {
		if s, ok := fresh[commit]; ok {
			return s
		}
		r := filepath.Join(work, "fresh-root-"+commit[:12])
		copyTree(t, initial, r)
		g.run(freshDir, "config", "trail.root", r)
		g.run(freshDir, "config", "trail.state", r+".state")
		g.run(freshDir, "config", "trail.journal", "off")
		g.run(freshDir, "config", "trail.metrics", "off")
		g.trail(freshDir, "apply", commit)
		fresh[commit] = snapshot(t, r)
		return fresh[commit]
	}

	for i := range 200 {
		var target string
		switch rng.IntN(4) {
		case 0:
			target = []string{"main", "side"}[rng.IntN(2)]
		default:
			target = commits[rng.IntN(len(commits))]
		}
		g.run(hostDir, "checkout", "-q", target)
		head := strings.TrimSpace(g.run(hostDir, "rev-parse", "HEAD"))
		got := snapshot(t, root)
		if diff := diffSnapshots(want(head), got); diff != "" {
			t.Fatalf("checkout %d of %s (%s): the root differs from a fresh apply (-fresh +got):\n%s", i, target, head[:12], diff)
		}
	}
	if len(fresh) < 10 {
		t.Errorf("the walk visited only %d distinct commits", len(fresh))
	}
}

// randomConfig writes a config for commit i: a fixed directory, a random
// set of managed paths whose kinds change between commits (x and e are a
// file, a symlink or a directory, over a file and an empty directory that
// were there before), and a tree
// with random contents.
func randomConfig(t *testing.T, rng *rand.Rand, dir string, i int) {
	var b strings.Builder
	b.WriteString("directory \"/srv/r\" {}\n")
	modes := []string{"0644", "0600", "0640"}
	dirs := []string{}
	for _, d := range []string{"d1", "d2", "d3"} {
		if rng.IntN(2) == 0 {
			dirs = append(dirs, "/srv/r/"+d)
			fmt.Fprintf(&b, "directory %q { mode = %q }\n", "/srv/r/"+d, []string{"0755", "0750"}[rng.IntN(2)])
		}
	}
	parents := append([]string{"/srv/r"}, dirs...)
	for _, f := range []string{"f1", "f2", "f3", "f4"} {
		if rng.IntN(3) == 0 {
			continue
		}
		p := parents[rng.IntN(len(parents))] + "/" + f
		fmt.Fprintf(&b, "file %q {\n  content = %q\n  mode = %q\n}\n", p, fmt.Sprintf("%s in commit %d\n", f, i), modes[rng.IntN(len(modes))])
	}
	switch rng.IntN(4) {
	case 0:
		fmt.Fprintf(&b, "file \"/srv/r/x\" { content = \"x is a file in %d\\n\" }\n", i)
	case 1:
		b.WriteString("symlink \"/srv/r/x\" { to = \"f1\" }\n")
	case 2:
		b.WriteString("directory \"/srv/r/x\" { mode = \"0700\" }\n")
	}
	// e was an empty directory before trail: each removed kind gives it
	// back, and the next kind replaces it in the same apply.
	switch rng.IntN(4) {
	case 0:
		fmt.Fprintf(&b, "file \"/srv/r/e\" { content = \"e is a file in %d\\n\" }\n", i)
	case 1:
		b.WriteString("symlink \"/srv/r/e\" { to = \"x\" }\n")
	case 2:
		b.WriteString("directory \"/srv/r/e\" { mode = \"0750\" }\n")
	}
	if rng.IntN(3) > 0 {
		fmt.Fprintf(&b, "file \"/etc/motd\" { content = \"motd %d\\n\" }\n", rng.IntN(3))
	}
	for _, l := range []string{"l1", "l2"} {
		if rng.IntN(2) == 0 {
			fmt.Fprintf(&b, "symlink %q { to = %q }\n", "/srv/r/"+l, []string{"f1", "../tree", "/nonexistent"}[rng.IntN(3)])
		}
	}
	if err := os.RemoveAll(filepath.Join(dir, "t")); err != nil {
		t.Fatal(err)
	}
	if rng.IntN(4) > 0 {
		files := map[string]string{}
		for range 1 + rng.IntN(5) {
			p := []string{"a", "b", "sub/c", "sub/d", "sub/deep/e"}[rng.IntN(5)]
			files["t/"+p] = fmt.Sprintf("%s %d\n", p, rng.IntN(4))
		}
		gittest.WriteFiles(t, dir, files)
		b.WriteString("tree \"t\" {\n  path = \"/srv/tree\"\n  source = \"t\"\n}\n")
	}
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// gitEnv runs git and trail with a git config of the test's own.
type gitEnv struct {
	t   *testing.T
	env []string
}

func newGitEnv(t *testing.T, work string) *gitEnv {
	cfg := filepath.Join(work, ".gitconfig")
	if err := os.WriteFile(cfg, []byte(gitConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	return &gitEnv{t: t, env: append(os.Environ(), "GIT_CONFIG_GLOBAL="+cfg, "GIT_CONFIG_NOSYSTEM=1")}
}

func (g *gitEnv) run(dir string, args ...string) string { return g.exec(dir, "git", args...) }

func (g *gitEnv) trail(dir string, args ...string) string { return g.exec(dir, "trail", args...) }

func (g *gitEnv) exec(dir, prog string, args ...string) string {
	g.t.Helper()
	cmd := exec.Command(prog, args...)
	cmd.Dir, cmd.Env = dir, g.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		g.t.Fatalf("%s %s: %v\n%s%s", prog, strings.Join(args, " "), err, out.String(), errb.String())
	}
	if e := errb.String(); strings.Contains(e, "does not compile") || strings.Contains(e, "failed") || strings.Contains(e, "stays at its last good") {
		g.t.Fatalf("%s %s: trail failed in a hook:\n%s", prog, strings.Join(args, " "), errb.String())
	}
	return out.String()
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	if out, err := exec.Command("cp", "-a", from, to).CombinedOutput(); err != nil {
		t.Fatalf("cp -a: %v: %s", err, out)
	}
}

// snapshot describes every entry under root: type, permissions, owner,
// and content or link target. Times are left out: a rollback restores
// contents and attributes, not clocks.
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		desc := fmt.Sprintf("%v %d:%d", fi.Mode(), st.Uid, st.Gid)
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			to, err := os.Readlink(p)
			if err != nil {
				return err
			}
			desc += " -> " + to
		case fi.Mode().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			desc += fmt.Sprintf(" %q", data)
		}
		out[rel] = desc
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func diffSnapshots(want, got map[string]string) string {
	var lines []string
	for p, w := range want {
		if g, ok := got[p]; !ok {
			lines = append(lines, "- "+p+" "+w)
		} else if g != w {
			lines = append(lines, "- "+p+" "+w, "+ "+p+" "+g)
		}
	}
	for p, g := range got {
		if _, ok := want[p]; !ok {
			lines = append(lines, "+ "+p+" "+g)
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}
