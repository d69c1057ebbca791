package host

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// testCheckout makes a config checkout with one commit of site.hcl, whose
// trail settings point at a sandbox root and state directory with
// neither metrics nor journal. It returns the checkout's directory.
func testCheckout(t *testing.T, site string) string {
	t.Helper()
	work := t.TempDir()
	cfg := filepath.Join(work, ".gitconfig")
	if err := os.WriteFile(cfg, []byte("[user]\n\tname = Trail Test\n\temail = test@example.org\n[init]\n\tdefaultBranch = main\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GIT_CONFIG_GLOBAL", cfg)
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	root := filepath.Join(work, "root")
	for name, data := range map[string]string{
		"etc/passwd":   "root:x:0:0:root:/root:/bin/sh\n",
		"etc/group":    "root:x:0:\n",
		"etc/hostname": "web1\n",
	} {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Join(work, "host")
	gitIn(t, "", "init", "-q", dir)
	for k, v := range map[string]string{"root": root, "state": filepath.Join(work, "state"), "metrics": "off", "journal": "off"} {
		gitIn(t, dir, "config", "trail."+k, v)
	}
	commitSite(t, dir, site, "first")
	return dir
}

func commitSite(t *testing.T, dir, site, msg string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "site.hcl"), []byte(site), 0o644); err != nil {
		t.Fatal(err)
	}
	gitIn(t, dir, "add", "-A")
	gitIn(t, dir, "commit", "-q", "-m", msg)
}

func gitIn(t *testing.T, dir string, args ...string) {
	t.Helper()
	if dir != "" {
		args = append([]string{"-C", dir}, args...)
	}
	if out, err := exec.Command("git", args...).CombinedOutput(); err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// TestHookProcess is not a test: it is the process the test below starts
// twice, a post-merge hook of the checkout TRAIL_TEST_HOOK names.
func TestHookProcess(t *testing.T) {
	dir := os.Getenv("TRAIL_TEST_HOOK")
	if dir == "" {
		t.Skip("run by TestConcurrentHooksOfOneCommit")
	}
	h, err := Open(dir, os.Stdout, os.Stdout)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if err := h.Hook(context.Background(), "post-merge", nil); err != nil {
		t.Fatal(err)
	}
}

// Two hooks for the same commit, in two processes (a post-merge and the
// timer, say): both compile it and wait for the lock; the one that gets
// it second finds the commit applied and says so, never with the counts
// of the first.
func TestConcurrentHooksOfOneCommit(t *testing.T) {
	dir := testCheckout(t, "file \"/etc/motd\" {\n  content = \"one\\n\"\n}\n")
	first, err := Open(dir, &bytes.Buffer{}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.Apply(context.Background(), ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	first.Close()
	commitSite(t, dir, "file \"/etc/motd\" {\n  content = \"two\\n\"\n}\nfile \"/etc/issue\" {\n  content = \"x\\n\"\n}\n", "second")

	// Hold the state lock, so that both hooks wait for it once they have
	// compiled the commit.
	lf, err := os.OpenFile(filepath.Join(filepath.Dir(dir), "state", "lock"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	if err := unix.Flock(int(lf.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	outs := make([]string, 2)
	var cmds []*exec.Cmd
	var reads []chan struct{}
	for i := range 2 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHookProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), "TRAIL_TEST_HOOK="+dir)
		pipe, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
		// Read up to "trail: applying": it has read the applied
		// generation and compiled the commit.
		r := bufio.NewReader(pipe)
		for !strings.Contains(outs[i], "trail: applying") {
			line, err := r.ReadString('\n')
			outs[i] += line
			if err != nil {
				t.Fatalf("hook %d ended before it waited for the lock:\n%s", i, outs[i])
			}
		}
		read := make(chan struct{})
		reads = append(reads, read)
		go func() {
			defer close(read)
			rest, _ := io.ReadAll(r)
			outs[i] += string(rest)
		}()
	}
	unix.Flock(int(lf.Fd()), unix.LOCK_UN)
	for i, cmd := range cmds {
		<-reads[i]
		if err := cmd.Wait(); err != nil {
			t.Fatalf("hook %d: %v\n%s", i, err, outs[i])
		}
	}
	applied := regexp.MustCompile(`trail: applied [0-9a-f]{12} as generation 2 in .*: 1 added, 1 modified, 0 removed, 0 unchanged\n`)
	meanwhile := regexp.MustCompile(`trail: [0-9a-f]{12} was applied meanwhile by another trail \(generation 2\): nothing to do\n`)
	a, b := outs[0], outs[1]
	if !applied.MatchString(a) {
		a, b = b, a
	}
	if !applied.MatchString(a) || !meanwhile.MatchString(b) || strings.Contains(b, "as generation") {
		t.Fatalf("want one apply and one that finds it applied; outputs:\n%s\n--\n%s", a, b)
	}
}
