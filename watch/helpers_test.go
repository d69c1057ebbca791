package watch

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"trail/apply"
	"trail/stepfmt"
)

// wait is how long a test waits for something that should come: a guard
// against hanging, not a speed check (benchmarks measure speed).
const wait = 20 * time.Second

// sandbox is a root and a state directory under t.TempDir(), with an
// engine for the watcher and a second one for applies made "by a hook"
// while it runs (an Engine is not safe for concurrent use).
type sandbox struct {
	t     *testing.T
	root  string
	state string
	e     *apply.Engine
}

func newSandbox(t testing.TB) *sandbox {
	t.Helper()
	sb := &sandbox{root: t.TempDir(), state: filepath.Join(t.TempDir(), "trail")}
	for _, d := range []string{"/srv", "/etc"} {
		if err := os.MkdirAll(sb.host(d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	sb.e = sb.open(t)
	return sb
}

func (sb *sandbox) open(t testing.TB) *apply.Engine {
	t.Helper()
	e, err := apply.Open(apply.Options{Root: sb.root, StateDir: sb.state})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func (sb *sandbox) host(p string) string { return filepath.Join(sb.root, p) }

// apply applies steps with an engine of its own, as a hook's process
// would. In steps, {text} stands for the store key of text, which is put
// in the store first.
func (sb *sandbox) apply(t testing.TB, commit, steps string) *apply.Generation {
	t.Helper()
	return sb.applyMeta(t, apply.Meta{Commit: commit, Branch: "main"}, steps)
}

// applyMeta is apply with the whole of meta (Force).
func (sb *sandbox) applyMeta(t testing.TB, meta apply.Meta, steps string) *apply.Generation {
	t.Helper()
	e := sb.open(t)
	defer e.Close()
	var b strings.Builder
	for line := range strings.SplitSeq(steps, "\n") {
		if i := strings.Index(line, "{"); i >= 0 {
			j := strings.Index(line, "}")
			key, err := e.Store().Put([]byte(line[i+1 : j]))
			if err != nil {
				t.Fatal(err)
			}
			line = line[:i] + key + line[j+1:]
		}
		b.WriteString(line + "\n")
	}
	l, errs := stepfmt.Parse("test.steps", []byte(b.String()))
	if len(errs) > 0 {
		t.Fatal(errs.Err())
	}
	g, err := e.Apply(context.Background(), l, meta)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func (sb *sandbox) read(t testing.TB, p string) string {
	t.Helper()
	b, err := os.ReadFile(sb.host(p))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// run is a watcher running in the background and what it said.
type run struct {
	drifts   chan []apply.Drift
	statuses chan string
	ready    chan struct{}
	done     chan error
	cancel   context.CancelFunc

	mu       sync.Mutex
	logs     []string
	ended    bool
	endedErr error
}

// end waits for Run to return and gives its result; later calls give the
// same result. It fails the test if Run does not return.
func (r *run) end(t testing.TB) error {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ended {
		return r.endedErr
	}
	select {
	case r.endedErr = <-r.done:
		r.ended = true
	case <-time.After(wait):
		t.Fatal("Run did not return")
	}
	return r.endedErr
}

// start runs the watcher on sb with opts (Engine, Root and the callbacks
// filled in) until the test ends.
func start(t testing.TB, sb *sandbox, opts Options) *run {
	t.Helper()
	r := &run{drifts: make(chan []apply.Drift, 1000), statuses: make(chan string, 1000),
		ready: make(chan struct{}), done: make(chan error, 1)}
	opts.Engine, opts.Root = sb.e, sb.root
	opts.OnDrift = func(d []apply.Drift) { r.drifts <- d }
	opts.Status = func(s string) { r.statuses <- s }
	opts.Logf = func(f string, a ...any) {
		r.mu.Lock()
		r.logs = append(r.logs, fmt.Sprintf(f, a...))
		r.mu.Unlock()
	}
	if opts.hooks == nil {
		opts.hooks = &hooks{}
	}
	opts.hooks.ready = func() { close(r.ready) }
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- Run(ctx, opts) }()
	t.Cleanup(func() {
		cancel()
		r.end(t)
	})
	return r
}

func (r *run) waitReady(t testing.TB) {
	t.Helper()
	select {
	case <-r.ready:
	case <-time.After(wait):
		t.Fatal("no READY")
	}
}

// waitDrift returns the first OnDrift list for which ok holds.
func (r *run) waitDrift(t testing.TB, what string, ok func([]apply.Drift) bool) []apply.Drift {
	t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case d := <-r.drifts:
			if ok(d) {
				return d
			}
		case <-deadline:
			t.Fatalf("no drift report where %s; log: %q", what, r.log())
		}
	}
}

// waitStatus returns the first status line containing sub.
func (r *run) waitStatus(t testing.TB, sub string) string {
	t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case s := <-r.statuses:
			if strings.Contains(s, sub) {
				return s
			}
		case <-deadline:
			t.Fatalf("no status line with %q; log: %q", sub, r.log())
		}
	}
}

func (r *run) log() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.logs)
}

// targets lists the drifted targets of a report, as "KIND target".
func targets(d []apply.Drift) []string {
	out := make([]string, len(d))
	for i, x := range d {
		out[i] = x.ID.String()
	}
	return out
}

func has(id string) func([]apply.Drift) bool {
	return func(d []apply.Drift) bool { return slices.Contains(targets(d), id) }
}

func hasAll(ids ...string) func([]apply.Drift) bool {
	return func(d []apply.Drift) bool {
		got := targets(d)
		for _, id := range ids {
			if !slices.Contains(got, id) {
				return false
			}
		}
		return true
	}
}

func none(d []apply.Drift) bool { return len(d) == 0 }

// notifySocket binds a unixgram socket as systemd would and points
// NOTIFY_SOCKET at it; every datagram arrives on the returned channel.
func notifySocket(t testing.TB) <-chan string {
	t.Helper()
	addr := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("NOTIFY_SOCKET", addr)
	ch := make(chan string, 1000)
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			ch <- string(buf[:n])
		}
	}()
	t.Cleanup(func() { conn.Close() })
	return ch
}

// waitMessage returns the first datagram holding line, failing after wait.
func waitMessage(t testing.TB, ch <-chan string, line string) string {
	t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case m := <-ch:
			if slices.Contains(strings.Split(m, "\n"), line) {
				return m
			}
		case <-deadline:
			t.Fatalf("no %s message", line)
		}
	}
}
