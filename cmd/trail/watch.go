package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"trail/apply"
	"trail/host"
	"trail/report"
	"trail/watch"
)

// runWatch is the trail-watch service: drift the moment it happens, each
// target's drift policy applied, the metrics file kept current, and
// `trail pull` on an interval as the backstop for missed hooks.
func runWatch(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("watch", "", stderr)
	dir := hostFlags(fs)
	interval := fs.Duration("pull-interval", 15*time.Minute, "run trail pull this often (0: never)")
	jitter := fs.Duration("jitter", 5*time.Minute, "add up to this much random delay to each pull")
	rescan := fs.Duration("rescan", watch.DefaultRescan, "check every managed target this often, whatever the events")
	if fs.Parse(args) != nil || fs.NArg() != 0 {
		fs.Usage()
		return 2
	}
	h, ok := openHost(*dir, stdout, stderr)
	if !ok {
		return 2
	}
	defer h.Close()
	// A check that finds an apply running is retried by the watcher;
	// waiting for the lock would starve the watchdog.
	h.Settings.LockTimeout = 0
	e, err := h.Engine()
	if err != nil {
		fmt.Fprintf(stderr, "trail: %v\n", err)
		return 1
	}
	ctx, stop := signalContext()
	defer stop()

	opts := watch.Options{
		Engine:   e,
		Root:     h.Settings.Root,
		Interval: *interval,
		Jitter:   *jitter,
		Rescan:   *rescan,
		Pull: func(ctx context.Context) error {
			// Its own host and engine: the state lock orders it with the watcher.
			ph, err := host.Open(h.Checkout.Dir, stdout, stderr)
			if err != nil {
				return err
			}
			defer ph.Close()
			_, err = ph.Pull(ctx)
			return err
		},
		OnDrift: watchReporter(h),
		Status:  func(line string) { fmt.Fprintln(stdout, "trail: "+line) },
		Logf:    func(format string, a ...any) { fmt.Fprintf(stderr, "trail: "+format+"\n", a...) },
	}
	h.Notice(report.EventWatch, "watching managed paths for drift")
	err = watch.Run(ctx, opts)
	h.Notice(report.EventWatch, "stopped watching")
	if err != nil {
		fmt.Fprintf(stderr, "trail: %v\n", err)
		return 1
	}
	return 0
}

// watchReporter is trail watch's OnDrift: it reports each drift once and
// writes the metrics from the drift the watcher's check found, which
// checking again would only repeat (at 100,000 files a stat of every
// target and a read of the applied record, for each change seen).
func watchReporter(h *host.Host) func([]apply.Drift) {
	var prev []apply.Drift
	return func(now []apply.Drift) {
		for _, d := range watch.Fresh(prev, now) {
			h.ReportDrift(d)
		}
		prev = now
		h.WriteMetricsDrift(now)
	}
}
