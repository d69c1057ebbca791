package apply

import (
	"context"
	"flag"
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"trail/apply/state"
	"trail/stepfmt"
)

// memFiles is the size of ApplyMemory's tree: `-applymem.files=100000`
// gives the large case's per-file figures.
var memFiles = flag.Int("applymem.files", 10000, "files in BenchmarkApplyMemory's tree")

// BenchmarkApplyMemory reports what the paths that do work add to the
// heap at their peak, per file of a 10,000-file tree (`go test -run X
// -bench ApplyMemory ./apply/`; -applymem.files sets another size): the
// first apply, an apply changing one
// file, apply --force finding nothing drifted, and status (a drift check
// and the store check) on a freshly opened engine, as a trail process
// does them. peak-heap-B/file counts what the garbage collector has not
// freed yet too, which the process's resident memory follows;
// peak-live-B/file only what a collection found live. The step list
// itself is the caller's and not counted.
func BenchmarkApplyMemory(b *testing.B) {
	ctx := context.Background()
	n := *memFiles
	bt := newBenchTree(n)
	l := bt.list(b)
	b.Run("first", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			e := bt.engine(b)
			b.StartTimer()
			peak(b, n, func() error { _, err := e.Apply(ctx, l, Meta{Commit: "c1"}); return err })
		}
	})
	e := bt.engine(b)
	if _, err := e.Apply(ctx, l, Meta{Commit: "c1"}); err != nil {
		b.Fatal(err)
	}
	time.Sleep(2 * state.RacyWindow)
	reopen := func() {
		e.Close()
		var err error
		if e, err = Open(e.opts); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("onechange", func(b *testing.B) {
		key, err := e.Store().Put([]byte("changed\n"))
		if err != nil {
			b.Fatal(err)
		}
		lists := [2]*stepfmt.List{l, bt.list(b)}
		lists[1].Steps[n/2+2].Set("content", key)
		i := 0
		for b.Loop() {
			i++
			b.StopTimer()
			reopen()
			b.StartTimer()
			peak(b, n, func() error { _, err := e.Apply(ctx, lists[i%2], Meta{Commit: fmt.Sprint("c", i+1)}); return err })
		}
		if i%2 == 1 {
			if _, err := e.Apply(ctx, l, Meta{Commit: "back"}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("force", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			reopen()
			b.StartTimer()
			peak(b, n, func() error { _, err := e.Apply(ctx, l, Meta{Commit: "back", Force: true}); return err })
		}
	})
	b.Run("status", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			reopen()
			b.StartTimer()
			peak(b, n, func() error {
				if _, err := e.CheckBlobs(); err != nil {
					return err
				}
				_, err := e.Drift()
				return err
			})
		}
	})
	e.Close()
}

// peak runs op and reports the heap's peak growth over what it was before,
// per file of n.
func peak(b *testing.B, n int, op func() error) {
	b.Helper()
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	base, baseLive := s[0].Value.Uint64(), s[1].Value.Uint64()
	var top, topLive uint64
	var mu sync.Mutex
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}}
		for {
			metrics.Read(s)
			mu.Lock()
			top, topLive = max(top, s[0].Value.Uint64()), max(topLive, s[1].Value.Uint64())
			mu.Unlock()
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	err := op()
	close(stop)
	<-done
	if err != nil {
		b.Fatal(err)
	}
	growth := func(v, from uint64) float64 {
		if v < from {
			return 0
		}
		return float64(v-from) / float64(n)
	}
	b.ReportMetric(growth(top, base), "peak-heap-B/file")
	b.ReportMetric(growth(topLive, baseLive), "peak-live-B/file")
}
