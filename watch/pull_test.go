package watch

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Pull runs on its interval, never twice at once, goes on after a failed
// pull, and stops with Run.
func TestPullInterval(t *testing.T) {
	sb := newSandbox(t)
	var calls, running, overlap atomic.Int32
	pulled := make(chan struct{}, 100)
	pull := func(ctx context.Context) error {
		if running.Add(1) > 1 {
			overlap.Add(1)
		}
		defer running.Add(-1)
		n := calls.Add(1)
		time.Sleep(30 * time.Millisecond) // longer than the interval
		pulled <- struct{}{}
		if n == 1 {
			return errors.New("upstream unreachable")
		}
		return nil
	}
	r := start(t, sb, Options{Interval: 10 * time.Millisecond, Jitter: 5 * time.Millisecond, Pull: pull})
	for range 3 {
		select {
		case <-pulled:
		case <-time.After(wait):
			t.Fatal("Pull did not run three times")
		}
	}
	r.cancel()
	if err := r.end(t); err != nil {
		t.Fatal(err)
	}
	after := calls.Load()
	time.Sleep(50 * time.Millisecond)
	if calls.Load() != after {
		t.Error("Pull ran after Run returned")
	}
	if overlap.Load() > 0 {
		t.Error("two pulls ran at once")
	}
	if !strings.Contains(strings.Join(r.log(), "\n"), "upstream unreachable") {
		t.Errorf("failed pull not logged: %q", r.log())
	}
}

func TestNoPullWhenOff(t *testing.T) {
	for name, opts := range map[string]Options{
		"no interval": {Pull: func(context.Context) error { panic("pulled") }},
		"no pull":     {Interval: time.Millisecond},
	} {
		t.Run(name, func(t *testing.T) {
			r := start(t, newSandbox(t), opts)
			r.waitReady(t)
			time.Sleep(20 * time.Millisecond)
		})
	}
}

func TestNext(t *testing.T) {
	o := Options{Interval: time.Minute, Jitter: time.Second}
	seen := map[time.Duration]bool{}
	for range 100 {
		d := next(o)
		if d < time.Minute || d >= time.Minute+time.Second {
			t.Fatalf("next = %v, want in [1m, 1m1s)", d)
		}
		seen[d] = true
	}
	if len(seen) < 2 {
		t.Error("no jitter")
	}
	if d := next(Options{Interval: time.Minute}); d != time.Minute {
		t.Errorf("without jitter next = %v", d)
	}
}
