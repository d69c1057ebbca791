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
// it changes nothing; at 100,000 files it held an apply --force, when that
// parsed its step list, at 81–85 MiB of resident memory, not 122–130. 80
// MiB held the first apply at 95–97 MiB; with its live heap at most about
// 50 MB, 72 holds it at 87–91, in about as many collections as 80 made
// when 60 MB were live.
const memoryLimit = 72 << 20

// liftAt is the share of the limit live after a collection above which
// the limit is raised, to what leaves that share live again: held close
// under it, the heap would be collected again and again for little room.
// Raised rather than lifted: a first apply of 100,000 files whose live
// heap passed the lift point once (68 MB of 64 MiB) peaked at 140 MiB of
// resident memory, the collector's default doubling, where a raise to a
// quarter over what is live holds it near 100.
const liftAt = 0.8

// liftAll is the live heap above which the limit is lifted for the rest of
// the process: past it trail is far beyond the memory it aims at, and a
// collector held at a quarter of room over so much live would cost more
// CPU time than the limit saves memory.
const liftAll = 2 * memoryLimit

// stopWatching ends watchCollections (a test's).
var stopWatching atomic.Bool

// setMemoryLimit sets memoryLimit, unless the environment sets GOMEMLIMIT
// (GOMEMLIMIT=off leaves the collector to GOGC alone), and watches each
// collection to raise it as the live heap nears it. An empty GOMEMLIMIT
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
		if s[0].Value.Kind() == metrics.KindUint64 {
			if lift := raisedLimit(s[0].Value.Uint64(), debug.SetMemoryLimit(-1)); lift != 0 {
				debug.SetMemoryLimit(lift)
				if lift == math.MaxInt64 {
					return
				}
			}
		}
		watchCollections()
	}, struct{}{})
}

// raisedLimit is the limit to set with live bytes live under limit, or 0
// to leave it.
func raisedLimit(live uint64, limit int64) int64 {
	switch {
	case float64(live) <= liftAt*float64(limit):
		return 0
	case live >= liftAll:
		return math.MaxInt64
	}
	return int64(float64(live) / liftAt)
}
