package watch

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"

	"trail/apply"
	"trail/stepfmt"
)

// The idle benchmark runs each watcher in a child process (this test
// binary again, told by these variables what to do), so that its RSS is
// the watcher's alone and not the benchmark's setup.
const (
	childEnv      = "TRAIL_WATCH_BENCH_CHILD" // "watcher" or "bare"
	childRootEnv  = "TRAIL_WATCH_BENCH_ROOT"
	childStateEnv = "TRAIL_WATCH_BENCH_STATE"
	idlePeriod    = 2 * time.Second
)

// benchTree applies n FILE steps, 100 to a directory, to a fresh sandbox.
func benchTree(b *testing.B, n int) *sandbox {
	b.Helper()
	sb := newSandbox(b)
	var steps []*stepfmt.Step
	blobs := make([][]byte, n)
	for i := range n {
		blobs[i] = fmt.Appendf(nil, "content of file %d\n", i)
	}
	keys, err := sb.e.Store().PutMany(blobs)
	if err != nil {
		b.Fatal(err)
	}
	for d := 0; d < (n+99)/100; d++ {
		dir := fmt.Sprintf("/srv/d%03d", d)
		steps = append(steps, &stepfmt.Step{Kind: stepfmt.KindDir, Target: dir})
		for i := d * 100; i < min(n, d*100+100); i++ {
			steps = append(steps, &stepfmt.Step{Kind: stepfmt.KindFile, Target: fmt.Sprintf("%s/f%03d", dir, i%100),
				Attrs: []stepfmt.Attr{{Key: "content", Value: keys[i]}}})
		}
	}
	if _, err := sb.e.Apply(context.Background(), &stepfmt.List{Steps: steps}, apply.Meta{Commit: "bench", Branch: "main"}); err != nil {
		b.Fatal(err)
	}
	return sb
}

// BenchmarkIdle10k measures what a watcher of 10,000 managed files costs
// while nothing changes: resident memory and CPU over an idle period,
// against a bare fsnotify watcher of the same directories in the same run.
func BenchmarkIdle10k(b *testing.B) {
	sb := benchTree(b, 10000)
	for _, mode := range []string{"watcher", "bare"} {
		b.Run(mode, func(b *testing.B) {
			var m map[string]float64
			for b.Loop() {
				m = runChild(b, mode, sb)
			}
			b.ReportMetric(m["rss_kb"]/1024, "MB-RSS")
			b.ReportMetric(m["hwm_kb"]/1024, "MB-peak-RSS")
			b.ReportMetric(100*m["idle_cpu_us"]/float64(idlePeriod.Microseconds()), "%CPU-idle")
			b.ReportMetric(m["ready_us"]/1000, "ms-to-ready")
		})
	}
}

func runChild(b *testing.B, mode string, sb *sandbox) map[string]float64 {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+mode, childRootEnv+"="+sb.root, childStateEnv+"="+sb.state)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		b.Fatalf("%s child: %v\n%s", mode, err, errb.String())
	}
	m := map[string]float64{}
	for f := range strings.FieldsSeq(out.String()) {
		k, v, ok := strings.Cut(f, "=")
		if x, err := strconv.ParseFloat(v, 64); ok && err == nil {
			m[k] = x
		}
	}
	if len(m) < 4 {
		b.Fatalf("%s child said %q", mode, out.String())
	}
	return m
}

// benchChild is a child process: it starts a watcher, waits until it is
// ready, idles, and prints its costs as key=value. It returns the exit code.
func benchChild(mode string) int {
	root, state := os.Getenv(childRootEnv), os.Getenv(childStateEnv)
	begin := time.Now()
	ready := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	switch mode {
	case "watcher":
		e, err := apply.Open(apply.Options{Root: root, StateDir: state})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer e.Close()
		go func() {
			errc <- Run(ctx, Options{Engine: e, Root: root, hooks: &hooks{ready: func() { close(ready) }}})
		}()
	case "bare":
		go func() { errc <- bareWatch(ctx, root, state, ready) }()
	default:
		fmt.Fprintln(os.Stderr, "unknown mode", mode)
		return 2
	}
	select {
	case <-ready:
	case err := <-errc:
		fmt.Fprintln(os.Stderr, "watcher ended:", err)
		return 1
	}
	readyAfter := time.Since(begin)
	cpu0 := cpuTime()
	time.Sleep(idlePeriod)
	idle := cpuTime() - cpu0
	fmt.Printf("ready_us=%d idle_cpu_us=%d rss_kb=%d hwm_kb=%d\n",
		readyAfter.Microseconds(), idle.Microseconds(), procStatus("VmRSS"), procStatus("VmHWM"))
	return 0
}

// bareWatch is the baseline: fsnotify on the same directories, draining
// events and doing nothing with them.
func bareWatch(ctx context.Context, root, state string, ready chan struct{}) error {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	defer fw.Close()
	dirs, err := filepath.Glob(filepath.Join(root, "srv", "d*"))
	if err != nil {
		return err
	}
	for _, d := range append(dirs, filepath.Join(root, "srv"), root, state) {
		if err := fw.Add(d); err != nil {
			return err
		}
	}
	close(ready)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-fw.Events:
		case <-fw.Errors:
		}
	}
}

// cpuTime is the user and system time this process used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procStatus reads a kB field of /proc/self/status, or -1.
func procStatus(field string) int {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			if err == nil {
				return n
			}
		}
	}
	return -1
}

// BenchmarkDetect10k measures how long a hand edit of one of 10,000
// managed files takes to reach OnDrift, and its undoing to clear it: two
// detections per op, each a debounce plus a drift check of every file.
func BenchmarkDetect10k(b *testing.B) {
	sb := benchTree(b, 10000)
	r := start(b, sb, Options{Rescan: -1})
	r.waitReady(b)
	r.waitDrift(b, "the first check is clean", none)
	file := sb.host("/srv/d042/f042")
	orig, err := os.ReadFile(file)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := os.WriteFile(file, []byte("by hand\n"), 0o644); err != nil {
			b.Fatal(err)
		}
		r.waitDrift(b, "the edit is seen", has("FILE /srv/d042/f042"))
		if err := os.WriteFile(file, orig, 0o644); err != nil {
			b.Fatal(err)
		}
		r.waitDrift(b, "the undo is seen", none)
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(2*b.N), "ms/detection")
}
