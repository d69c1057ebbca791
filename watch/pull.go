package watch

import (
	"context"
	"math/rand/v2"
	"time"
)

// pullLoop runs Pull every Interval plus up to Jitter, first after one
// interval (the host applied at boot; the timer unit covers the rest),
// until ctx is done. A failed pull is logged and tried at the next
// interval: the checkout and the applied generation are unchanged by it.
func pullLoop(ctx context.Context, opts Options) {
	if opts.Pull == nil || opts.Interval <= 0 {
		return
	}
	t := time.NewTimer(next(opts))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := opts.Pull(ctx); err != nil && ctx.Err() == nil {
			opts.Logf("watch: pull: %v", err)
		}
		t.Reset(next(opts))
	}
}

// next is one interval with its random extra delay.
func next(opts Options) time.Duration {
	d := opts.Interval
	if opts.Jitter > 0 {
		d += rand.N(opts.Jitter)
	}
	return d
}
