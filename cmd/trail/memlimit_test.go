package main

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// trail sets its soft memory limit unless GOMEMLIMIT is set, raises it
// as the live heap nears it, and lifts it for good once the live heap is
// far past it.
func TestMemoryLimit(t *testing.T) {
	was := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(was)
	t.Setenv("GOMEMLIMIT", "1GiB")
	setMemoryLimit()
	if got := debug.SetMemoryLimit(-1); got != was {
		t.Fatalf("with GOMEMLIMIT set the limit became %d, want it left at %d", got, was)
	}
	// Empty is unset, as the runtime reads it.
	os.Setenv("GOMEMLIMIT", "")
	stopWatching.Store(false)
	defer stopWatching.Store(true)
	setMemoryLimit()
	if got := debug.SetMemoryLimit(-1); got != memoryLimit {
		t.Fatalf("with GOMEMLIMIT empty the limit is %d, want %d", got, memoryLimit)
	}
	// until reports whether the limit became want within n collections
	// (each one's cleanup runs soon after it).
	until := func(want int64, n int) bool {
		for range n {
			runtime.GC()
			time.Sleep(time.Millisecond)
			if debug.SetMemoryLimit(-1) == want {
				return true
			}
		}
		return false
	}
	// raised waits for the limit to be raised over was.
	raised := func(was int64, n int) int64 {
		for range n {
			runtime.GC()
			time.Sleep(time.Millisecond)
			if got := debug.SetMemoryLimit(-1); got > was {
				return got
			}
		}
		return 0
	}
	held := make([]byte, memoryLimit*9/10)
	for i := range held {
		held[i] = 1
	}
	got := raised(memoryLimit, 1000)
	if got == 0 || got == math.MaxInt64 || float64(got) < float64(len(held))/liftAt {
		t.Fatalf("with %d bytes live the limit is %d, want it raised to about %d", len(held), got, int(float64(len(held))/liftAt))
	}
	runtime.KeepAlive(held)
	// Raised, it stays raised: the process's peak is made.
	held = nil
	if until(memoryLimit, 20) {
		t.Fatal("the limit was set back after it was raised")
	}
	held = make([]byte, liftAll+memoryLimit/4)
	for i := range held {
		held[i] = 1
	}
	if !until(math.MaxInt64, 1000) {
		t.Fatalf("with %d bytes live the limit stayed %d", len(held), debug.SetMemoryLimit(-1))
	}
	runtime.KeepAlive(held)
}

// The limit is raised to leave liftAt of it live once more than that is,
// and lifted once liftAll is.
func TestRaisedLimit(t *testing.T) {
	limit := int64(memoryLimit) // not a constant: its share is no integer
	edge := uint64(liftAt * float64(limit))
	over := func(live uint64) int64 { return int64(float64(live) / liftAt) }
	for _, tc := range []struct {
		live  uint64
		limit int64
		want  int64
	}{
		{0, memoryLimit, 0},
		{memoryLimit / 2, memoryLimit, 0},
		{edge, memoryLimit, 0},
		{edge + 1<<20, memoryLimit, over(edge + 1<<20)},
		{100 << 20, 90 << 20, 125 << 20},
		{100 << 20, 200 << 20, 0},
		{liftAll - 4, memoryLimit, over(liftAll - 4)},
		{liftAll, memoryLimit, math.MaxInt64},
		{1 << 40, 1 << 30, math.MaxInt64},
	} {
		if got := raisedLimit(tc.live, tc.limit); got != tc.want {
			t.Errorf("raisedLimit(%d, %d) = %d, want %d", tc.live, tc.limit, got, tc.want)
		}
	}
}
