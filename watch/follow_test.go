package watch

import (
	"os"
	"testing"
)

// After an apply by another process, the watch set follows the new
// generation: a directory it added is watched (the rescan is off, so only
// its events can report the edit).
func TestFollowsNewGeneration(t *testing.T) {
	sb := newSandbox(t)
	sb.apply(t, "c1", `DIR /srv/keep
FILE /srv/keep/x {x}
FILE /srv/keep/y {y}
DIR /srv/a
FILE /srv/a/conf {a}`)
	r := start(t, sb, Options{Rescan: -1})
	r.waitReady(t)
	r.waitStatus(t, "generation 1,")
	sb.apply(t, "c2", `DIR /srv/keep
FILE /srv/keep/x {x}
FILE /srv/keep/y {y}
DIR /srv/b
FILE /srv/b/conf {b}`)
	r.waitStatus(t, "applied c2 (main) generation 2, 0 drifted, watching 3 directories")
	if err := os.WriteFile(sb.host("/srv/b/conf"), []byte("by hand"), 0o644); err != nil {
		t.Fatal(err)
	}
	r.waitDrift(t, "the new generation's file drifted", has("FILE /srv/b/conf"))
}

// The first generation arrives while the watcher runs.
func TestFollowsFirstApply(t *testing.T) {
	sb := newSandbox(t)
	r := start(t, sb, Options{Rescan: -1})
	r.waitReady(t)
	r.waitStatus(t, "nothing applied yet")
	sb.apply(t, "c1", appSteps)
	r.waitStatus(t, "applied c1 (main) generation 1")
	if err := os.Remove(sb.host("/srv/app/conf")); err != nil {
		t.Fatal(err)
	}
	r.waitDrift(t, "conf deleted", has("FILE /srv/app/conf"))
}

// A managed directory removed and made again by hand is watched again:
// its parent stands in while it is missing.
func TestMissingDirectoryReturns(t *testing.T) {
	sb := newSandbox(t)
	sb.apply(t, "c1", `DIR /srv/app
DIR /srv/app/sub
FILE /srv/app/sub/conf {v=1}`)
	r := start(t, sb, Options{Rescan: -1})
	r.waitReady(t)
	r.waitDrift(t, "the first check is clean", none)
	if err := os.RemoveAll(sb.host("/srv/app")); err != nil {
		t.Fatal(err)
	}
	r.waitDrift(t, "the tree is gone", hasAll("DIR /srv/app", "DIR /srv/app/sub", "FILE /srv/app/sub/conf"))
	if err := os.MkdirAll(sb.host("/srv/app/sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sb.host("/srv/app/sub/conf"), []byte("v=1"), 0o644); err != nil {
		t.Fatal(err)
	}
	r.waitDrift(t, "the tree is back", none)
	// Its own watch is back: an edit in it is seen.
	if err := os.WriteFile(sb.host("/srv/app/sub/conf"), []byte("v=2"), 0o644); err != nil {
		t.Fatal(err)
	}
	r.waitDrift(t, "conf edited", has("FILE /srv/app/sub/conf"))
}
