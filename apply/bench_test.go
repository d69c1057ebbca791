package apply

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"trail/apply/kind"
	"trail/apply/state"
	"trail/stepfmt"
)

// benchSizes are the tree sizes the benchmarks run on: files in
// directories of 100.
var benchSizes = []int{1000, 10000}

// benchTree is a generated tree: its contents, and the step list that
// makes it under /bench.
type benchTree struct {
	contents [][]byte
	paths    []string
	text     string
}

func newBenchTree(n int) *benchTree {
	bt := &benchTree{}
	var b strings.Builder
	b.WriteString("DIR /bench\n")
	for i := 0; i < n; i++ {
		if i%100 == 0 {
			fmt.Fprintf(&b, "DIR /bench/d%03d\n", i/100)
		}
		p := fmt.Sprintf("/bench/d%03d/f%05d", i/100, i)
		c := []byte(fmt.Sprintf("%s %s\n", p, strings.Repeat("x", 200+i%800)))
		bt.contents = append(bt.contents, c)
		bt.paths = append(bt.paths, p)
		fmt.Fprintf(&b, "FILE %s %s mode=0644\n", p, kind.HashKey(c))
	}
	bt.text = b.String()
	return bt
}

func (bt *benchTree) list(tb testing.TB) *stepfmt.List {
	l, errs := stepfmt.Parse("bench.steps", []byte(bt.text))
	if len(errs) > 0 {
		tb.Fatal(errs)
	}
	return l
}

// engine opens an engine on a fresh root and state directory with the
// tree's contents in the store.
func (bt *benchTree) engine(b *testing.B) *Engine {
	b.Helper()
	dir := b.TempDir()
	os.Mkdir(filepath.Join(dir, "root"), 0o755)
	e, err := Open(Options{Root: filepath.Join(dir, "root"), StateDir: filepath.Join(dir, "state")})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { e.Close() })
	if _, err := e.Store().PutMany(bt.contents); err != nil {
		b.Fatal(err)
	}
	return e
}

// BenchmarkApply measures trail on trees of 1,000 and 10,000 files: the
// first apply, a no-op re-apply, an apply that changes one file, a full
// drift check, and a forced apply that finds nothing drifted.
func BenchmarkApply(b *testing.B) {
	ctx := context.Background()
	for _, n := range benchSizes {
		bt := newBenchTree(n)
		l := bt.list(b)
		b.Run(fmt.Sprintf("first/%d", n), func(b *testing.B) {
			var cpu time.Duration
			for b.Loop() {
				b.StopTimer()
				e := bt.engine(b)
				b.StartTimer()
				u := userCPU()
				if _, err := e.Apply(ctx, l, Meta{Commit: "c1"}); err != nil {
					b.Fatal(err)
				}
				cpu += userCPU() - u
			}
			// The wall time of a first apply is mostly the disk's; the
			// CPU it spends in user space is trail's own work.
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N)/1000, "user-ms/op")
		})
		e := bt.engine(b)
		if _, err := e.Apply(ctx, l, Meta{Commit: "c1"}); err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("noop/%d", n), func(b *testing.B) {
			for b.Loop() {
				g, err := e.Apply(ctx, l, Meta{Commit: "c1"})
				if err != nil || g.Number != 1 {
					b.Fatal(g, err)
				}
			}
		})
		b.Run(fmt.Sprintf("onechange/%d", n), func(b *testing.B) {
			alt := []byte("changed\n")
			key, err := e.Store().Put(alt)
			if err != nil {
				b.Fatal(err)
			}
			lists := [2]*stepfmt.List{l, bt.list(b)}
			lists[1].Steps[n/2+2].Set("content", key)
			i := 0
			for b.Loop() {
				i++
				if _, err := e.Apply(ctx, lists[i%2], Meta{Commit: fmt.Sprint("c", i+1)}); err != nil {
					b.Fatal(err)
				}
			}
		})
		time.Sleep(2 * state.RacyWindow)
		if _, err := e.Drift(); err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("drift/%d", n), func(b *testing.B) {
			for b.Loop() {
				d, err := e.Drift()
				if err != nil || len(d) != 0 {
					b.Fatal(d, err)
				}
			}
		})
		// apply --force with nothing drifted: compile aside, a drift
		// check and a plan of the whole list, and nothing written.
		if _, err := e.Apply(ctx, l, Meta{Commit: "forced"}); err != nil {
			b.Fatal(err)
		}
		time.Sleep(2 * state.RacyWindow)
		if _, err := e.Drift(); err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("force/%d", n), func(b *testing.B) {
			for b.Loop() {
				g, err := e.Apply(ctx, l, Meta{Commit: "forced", Force: true})
				if err != nil || !g.NoOp {
					b.Fatal(g, err)
				}
			}
		})
		// What status adds to the drift check: a stat per blob the
		// applied record names.
		b.Run(fmt.Sprintf("checkblobs/%d", n), func(b *testing.B) {
			for b.Loop() {
				if p, err := e.CheckBlobs(); err != nil || len(p) != 0 {
					b.Fatal(p, err)
				}
			}
		})
	}
}

// userCPU is the user CPU time the process has spent so far, its
// garbage collector and background writers included.
func userCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano())
}

// BenchmarkBaseline copies the same trees with cp -a and rsync -a, to
// compare the first apply with (neither syncs anything to disk).
func BenchmarkBaseline(b *testing.B) {
	for _, n := range benchSizes {
		bt := newBenchTree(n)
		src := filepath.Join(b.TempDir(), "src")
		for i, p := range bt.paths {
			h := filepath.Join(src, p)
			os.MkdirAll(filepath.Dir(h), 0o755)
			if err := os.WriteFile(h, bt.contents[i], 0o644); err != nil {
				b.Fatal(err)
			}
		}
		for _, tool := range [][]string{{"cp", "-a"}, {"rsync", "-a"}} {
			if _, err := exec.LookPath(tool[0]); err != nil {
				continue
			}
			b.Run(fmt.Sprintf("%s/%d", tool[0], n), func(b *testing.B) {
				for b.Loop() {
					b.StopTimer()
					dst := filepath.Join(b.TempDir(), "dst")
					b.StartTimer()
					args := append(tool[1:], src+"/", dst)
					if out, err := exec.Command(tool[0], args...).CombinedOutput(); err != nil {
						b.Fatalf("%v: %v %s", tool, err, out)
					}
				}
			})
		}
	}
}
