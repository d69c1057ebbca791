package host

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"trail/gitrepo/gittest"
)

// crashHost is a checkout of a one-file config whose settings point at a
// sandbox root and state directory.
func crashHost(t *testing.T) (*gittest.Repo, string) {
	g := gittest.New(t)
	g.Write(map[string]string{"site.hcl": "file \"/etc/motd\" {\n  content = \"hi\\n\"\n}\n"})
	commit := g.Commit("motd")
	base := t.TempDir()
	os.MkdirAll(filepath.Join(base, "root/etc"), 0o755)
	os.WriteFile(filepath.Join(base, "root/etc/hostname"), []byte("web1\n"), 0o644)
	g.Git("config", "trail.root", filepath.Join(base, "root"))
	g.Git("config", "trail.state", filepath.Join(base, "state"))
	g.Git("config", "trail.journal", "off")
	g.Git("config", "trail.metrics", filepath.Join(base, "trail.prom"))
	return g, commit
}

func openHost(t *testing.T, dir string) (*Host, *bytes.Buffer) {
	var errw bytes.Buffer
	h, err := Open(dir, &bytes.Buffer{}, &errw)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h, &errw
}

// A panic in the compile or the apply of a hook is recovered and recorded
// as the commit's failure: status is critical, and the hook does not try
// the commit again until HEAD moves.
func TestHookPanicIsRecordedFailure(t *testing.T) {
	for _, stage := range []string{"compile", "apply"} {
		t.Run(stage, func(t *testing.T) {
			g, commit := crashHost(t)
			h, errw := openHost(t, g.Dir)
			h.crashAt = func(s string) {
				if s == stage {
					panic("boom in " + s)
				}
			}
			err := h.Hook(context.Background(), "post-merge", nil)
			if err == nil || !strings.Contains(err.Error(), "panic: boom in "+stage) {
				t.Fatalf("hook: %v; want the panic as an error", err)
			}
			if !strings.Contains(errw.String(), "crash_test.go") {
				t.Errorf("no stack trace on stderr:\n%s", errw.String())
			}
			checkFailed(t, h, commit, "panic: boom in "+stage)

			// The next hook does not hammer the commit.
			h2, errw2 := openHost(t, g.Dir)
			called := false
			h2.crashAt = func(string) { called = true }
			if err := h2.Hook(context.Background(), "post-merge", nil); err != nil || called {
				t.Fatalf("second hook: %v (compile tried: %v); want the commit skipped", err, called)
			}
			if !strings.Contains(errw2.String(), "HEAD has not moved") {
				t.Fatalf("second hook said:\n%s", errw2.String())
			}
		})
	}
}

func checkFailed(t *testing.T, h *Host, commit, msg string) {
	t.Helper()
	r, err := h.loadRecord()
	if err != nil || r.Failure == nil || r.Failure.Commit != commit || !strings.Contains(r.Failure.Error, msg) || r.Failures != 1 {
		t.Fatalf("record after the crash: %+v %v; want the failure of %s saying %q", r.Failure, err, commit, msg)
	}
	if _, err := os.Stat(filepath.Join(h.Settings.state(), compilingFile)); err == nil {
		t.Fatalf("the compile note is left behind")
	}
	if st, err := h.Status(); err != nil || st.Level != Critical {
		t.Fatalf("status after the crash: %+v, %v; want critical", st, err)
	}
}

// overflow recurses until Go's stack limit: a fatal error, not a panic.
func overflow(n int) int {
	var pad [1024]byte
	pad[n%1024] = byte(n)
	return overflow(n+1) + int(pad[0])
}

// A compile the process does not survive (a fatal stack overflow, which
// no recover catches) is found by the next hook, recorded as the commit's
// failure, and not tried again.
func TestHookDiedCompilingIsRecordedFailure(t *testing.T) {
	if dir := os.Getenv("TRAIL_TEST_OVERFLOW_IN"); dir != "" {
		debug.SetMaxStack(16 << 20) // die as at 1 GB, with less memory
		h, _ := openHost(t, dir)
		h.crashAt = func(s string) {
			if s == "compile" {
				overflow(0)
			}
		}
		h.Hook(context.Background(), "post-merge", nil)
		t.Fatal("the overflow did not kill the process")
	}
	g, commit := crashHost(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestHookDiedCompilingIsRecordedFailure$")
	cmd.Env = append(os.Environ(), "TRAIL_TEST_OVERFLOW_IN="+g.Dir, "GODEBUG=", "GOMAXPROCS=1")
	cmd.Env = append(cmd.Env, "GOTRACEBACK=none")
	out, err := cmd.CombinedOutput()
	if err == nil || !bytes.Contains(out, []byte("stack exceeds")) {
		t.Fatalf("child: %v\n%.2000s", err, out)
	}
	h, errw := openHost(t, g.Dir)
	called := false
	h.crashAt = func(string) { called = true }
	if err := h.Hook(context.Background(), "post-merge", nil); err != nil || called {
		t.Fatalf("hook after the crash: %v (compile tried: %v); want the commit skipped", err, called)
	}
	if !strings.Contains(errw.String(), "trail died while compiling") {
		t.Fatalf("the hook said:\n%s", errw.String())
	}
	checkFailed(t, h, commit, "died while compiling")
}

// A state directory too full for the commit's contents fails the apply
// with the step whose content could not be stored, recorded as the
// commit's failure.
func TestStageDiskFullNamesStep(t *testing.T) {
	g, _ := crashHost(t)
	state := strings.TrimSpace(g.Git("config", "trail.state"))
	os.MkdirAll(state, 0o700)
	if err := unix.Mount("tmpfs", state, "tmpfs", 0, "size=256k"); err != nil {
		t.Skipf("SKIP: cannot mount a tmpfs here (%v): the full-state-disk case is untested here", err)
	}
	t.Cleanup(func() { unix.Unmount(state, unix.MNT_DETACH) })
	g.Write(map[string]string{
		"site.hcl": "file \"/etc/motd\" {\n  content = \"hi\\n\"\n}\n\nfile \"/srv/big\" {\n  source = \"big\"\n}\n",
		"big":      strings.Repeat("x", 400<<10),
	})
	commit := g.Commit("big")
	h, _ := openHost(t, g.Dir)
	err := h.Hook(context.Background(), "post-merge", nil)
	if err == nil || !strings.HasPrefix(err.Error(), "site.hcl:5-7: FILE /srv/big: storing its content of 409600 bytes: ") || !strings.Contains(err.Error(), "no space left on device") {
		t.Fatalf("hook: %v; want the error placed at site.hcl:5-7: FILE /srv/big", err)
	}
	r, _ := h.loadRecord()
	if r.Failure == nil || r.Failure.Commit != commit || r.Failure.Source != "site.hcl:5-7" || r.Failure.Step != "FILE /srv/big" {
		t.Fatalf("failure recorded: %+v", r.Failure)
	}
}

// A tree's contents are stored as the compile reads them and not named
// for staging: when the state directory is too full for them, the commit
// is compiled again naming them, and the failure is placed on the step
// whose content could not be stored, as for a file block's.
func TestStageDiskFullNamesTreeStep(t *testing.T) {
	g, _ := crashHost(t)
	state := strings.TrimSpace(g.Git("config", "trail.state"))
	os.MkdirAll(state, 0o700)
	if err := unix.Mount("tmpfs", state, "tmpfs", 0, "size=256k"); err != nil {
		t.Skipf("SKIP: cannot mount a tmpfs here (%v): the full-state-disk case is untested here", err)
	}
	t.Cleanup(func() { unix.Unmount(state, unix.MNT_DETACH) })
	g.Write(map[string]string{
		"site.hcl":  "file \"/etc/motd\" {\n  content = \"hi\\n\"\n}\n\ntree \"www\" {\n  path = \"/srv/www\"\n  source = \"www\"\n}\n",
		"www/index": "hello\n",
		"www/big":   strings.Repeat("x", 400<<10),
	})
	commit := g.Commit("big")
	h, _ := openHost(t, g.Dir)
	err := h.Hook(context.Background(), "post-merge", nil)
	if err == nil || !strings.HasPrefix(err.Error(), "site.hcl:5-8: FILE /srv/www/big: storing its content of 409600 bytes: ") || !strings.Contains(err.Error(), "no space left on device") {
		t.Fatalf("hook: %v; want the error placed at site.hcl:5-8: FILE /srv/www/big", err)
	}
	r, _ := h.loadRecord()
	if r.Failure == nil || r.Failure.Commit != commit || r.Failure.Source != "site.hcl:5-8" || r.Failure.Step != "FILE /srv/www/big" {
		t.Fatalf("failure recorded: %+v", r.Failure)
	}
}

// A compile another live trail is running (its note locked) is not taken
// for a dead one.
func TestLiveCompileIsNotACrash(t *testing.T) {
	g, commit := crashHost(t)
	a, _ := openHost(t, g.Dir)
	if _, err := a.Engine(); err != nil {
		t.Fatal(err)
	}
	a.compileStarts(commit)
	defer a.compileDone()
	b, _ := openHost(t, g.Dir)
	b.diedCompiling()
	if r, _ := b.loadRecord(); r.Failure != nil {
		t.Fatalf("a live compile was recorded as a crash: %+v", r.Failure)
	}
}
