package main

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// trail sets its soft memory limit unless GOMEMLIMIT is set, and lifts
// it for good once the live heap nears it.
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
	held := make([]byte, memoryLimit*9/10)
	for i := range held {
		held[i] = 1
	}
	if !until(math.MaxInt64, 1000) {
		t.Fatalf("with %d bytes live the limit stayed %d", len(held), debug.SetMemoryLimit(-1))
	}
	runtime.KeepAlive(held)
	// Lifted, it stays lifted: the process's peak is made.
	held = nil
	if until(memoryLimit, 20) {
		t.Fatal("the limit was set again after it was lifted")
	}
}
