package main

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
)

// memoryLimit is the soft limit trail sets on its heap unless GOMEMLIMIT
// says otherwise: the collector runs before the heap reaches it, where by
// default it lets the heap grow to twice what is live. Below half of it
// it changes nothing; at 100,000 files it keeps an apply --force at about
// 90–98 MiB of resident memory, not 122–130, for about a sixth more CPU
// time.
const memoryLimit = 80 << 20

// liftAt is the share of memoryLimit live after a collection above which
// the limit is lifted for the rest of the process: held close under it,
// the heap would be collected again and again for little room, and the
// process's peak is then made already (a first apply's compile of
// 100,000 files holds more than that).
const liftAt = 0.8

// stopWatching ends watchCollections (a test's).
var stopWatching atomic.Bool

// setMemoryLimit sets memoryLimit, unless the environment sets GOMEMLIMIT
// (GOMEMLIMIT=off leaves the collector to GOGC alone), and watches each
// collection to lift it once the live heap nears it. An empty GOMEMLIMIT
// is unset, as Go's runtime reads it: the runtime set no limit then.
func setMemoryLimit() {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetMemoryLimit(memoryLimit)
	watchCollections()
}

// watchCollections runs after each garbage collection (the cleanup of an
// object made for it, made again each time) until it lifts the limit.
func watchCollections() {
	runtime.AddCleanup(new([32]byte), func(struct{}) {
		if stopWatching.Load() {
			return
		}
		s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		metrics.Read(s)
		if s[0].Value.Kind() == metrics.KindUint64 && float64(s[0].Value.Uint64()) > liftAt*memoryLimit {
			debug.SetMemoryLimit(math.MaxInt64)
			return
		}
		watchCollections()
	}, struct{}{})
}
