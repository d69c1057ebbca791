package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// rig is one run: its directory, the processes it started, the results.
type rig struct {
	dir       string
	trail     string
	top       string // the source tree, for docs/
	procs     []*exec.Cmd
	passed    int
	failed    int
	prom      string    // Prometheus' base URL
	promStart time.Time // when it was ready: where time series panels begin
	shot      string    // where to write the dashboard's picture; "" for none
	hosts     []*host
	deadline  time.Duration // how long one wait for Prometheus may take
}

// host is one sandboxed machine.
type host struct {
	name, branch       string
	checkout, root     string
	state, textfileDir string
	port               int
}

func main() {
	trail := flag.String("trail", "bin/trail", "the trail binary the hosts run")
	n := flag.Int("hosts", 12, "how many hosts")
	keep := flag.Bool("keep", false, "keep the rig's directory for a look afterwards")
	total := flag.Duration("timeout", 5*time.Minute, "the whole run's limit")
	shot := flag.String("picture", "", "at the end, render the dashboard's panels from Prometheus and screenshot them with headless chromium into this PNG")
	flag.Parse()
	os.Exit(run(*trail, *n, *keep, *total, *shot))
}

func run(trail string, n int, keep bool, total time.Duration, shot string) int {
	if os.Geteuid() != 0 {
		return skip("must run as root: trail writes root-owned files into each host's --root; try: sudo make fleet")
	}
	for _, p := range []string{"git", "prometheus", "prometheus-node-exporter", "promtool"} {
		if _, err := exec.LookPath(p); err != nil {
			return skip(fmt.Sprintf("%s not found on PATH: run .ci/deps, which unpacks Debian's prometheus and prometheus-node-exporter into a cache, and make fleet, which puts them on PATH", p))
		}
	}
	abs, err := filepath.Abs(trail)
	if err != nil {
		return fatal(err)
	}
	if _, err := os.Stat(abs); err != nil {
		return fatal(fmt.Errorf("no trail binary at %s: run make build", abs))
	}
	top, err := os.Getwd()
	if err != nil {
		return fatal(err)
	}
	if _, err := os.Stat(filepath.Join(top, "docs", "alerts.yml")); err != nil {
		return fatal(fmt.Errorf("run from the top of the source tree: %w", err))
	}
	dir, err := os.MkdirTemp("", "trail-fleet.")
	if err != nil {
		return fatal(err)
	}
	if shot != "" {
		if shot, err = filepath.Abs(shot); err != nil {
			return fatal(err)
		}
	}
	r := &rig{dir: dir, trail: abs, top: top, deadline: 60 * time.Second, shot: shot}

	// The run ends by its own limit or a signal; either way cleanup runs.
	ctx, cancel := context.WithTimeout(context.Background(), total)
	defer cancel()
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	defer r.cleanup(keep)

	start := time.Now()
	if err := r.scenario(ctx, n); err != nil {
		r.fail("rig", err.Error())
	}
	say("done in %.1f s", time.Since(start).Seconds())
	fmt.Printf("%d passed, %d failed\n", r.passed, r.failed)
	if r.failed > 0 || r.passed == 0 {
		return 1
	}
	return 0
}

func say(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "fleet: "+format+"\n", args...)
}

func skip(why string) int {
	fmt.Fprintf(os.Stderr, "fleet: SKIP: %s\n", why)
	if os.Getenv("FLEET_STRICT") == "1" {
		return 1
	}
	return 0
}

func fatal(err error) int {
	fmt.Printf("FAIL rig: %v\n0 passed, 1 failed\n", err)
	return 1
}

func (r *rig) pass(name string) {
	r.passed++
	fmt.Printf("PASS %s\n", name)
}

func (r *rig) fail(name, why string) {
	r.failed++
	fmt.Printf("FAIL %s: %s\n", name, why)
}

// check records a named check from an error.
func (r *rig) check(name string, err error) bool {
	if err != nil {
		r.fail(name, err.Error())
		return false
	}
	r.pass(name)
	return true
}

// start runs a long-lived program of the rig, logging to dir/log/NAME.log.
// It dies with the rig (Pdeathsig), even if the rig is killed.
func (r *rig) start(name string, args ...string) (*exec.Cmd, error) {
	logDir := filepath.Join(r.dir, "log")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return nil, err
	}
	log, err := os.Create(filepath.Join(logDir, name+".log"))
	if err != nil {
		return nil, err
	}
	defer log.Close()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	r.procs = append(r.procs, cmd)
	return cmd, nil
}

// cleanup stops every process the rig started (TERM, then KILL after 5 s)
// and removes its directory.
func (r *rig) cleanup(keep bool) {
	for _, c := range r.procs {
		_ = syscall.Kill(-c.Process.Pid, syscall.SIGTERM)
	}
	for _, c := range r.procs {
		done := make(chan struct{})
		go func() { _ = c.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
			<-done
		}
	}
	if keep {
		say("kept %s", r.dir)
		return
	}
	if err := os.RemoveAll(r.dir); err != nil {
		say("could not remove %s: %v", r.dir, err)
	}
}

// sh runs a command to completion in dir, returning its output; a
// failure's error carries the output.
func (r *rig) sh(ctx context.Context, dir string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s (in %s): %w\n%s", strings.Join(args, " "), dir, err, out)
	}
	return string(out), nil
}

// exitCode runs a command and returns its exit status.
func (r *rig) exitCode(ctx context.Context, dir string, args ...string) (int, string, error) {
	out, err := r.sh(ctx, dir, args...)
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), out, nil
	}
	if err != nil {
		return -1, out, err
	}
	return 0, out, nil
}
