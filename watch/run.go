package watch

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"

	"trail/apply"
	"trail/report"
)

// appliedFile is the applied record in the state directory (apply's
// doc.go, "State directory"): every apply that commits replaces it by a
// rename, so an event on it means the generation may have changed.
const appliedFile = "applied"

// Run watches the managed paths until ctx is done, checking drift when
// they change and applying each target's drift policy, and runs Pull on
// its interval. It speaks sd_notify: READY=1 after the first full drift
// check, STATUS= when the status line changes, WATCHDOG=1 at half of
// WatchdogSec from its loop, STOPPING=1 when ctx is done. It returns nil
// after ctx is done, and an error only when it cannot start: no engine,
// no inotify, a bad WATCHDOG_USEC, or a first check that fails for a
// reason other than a running apply. Later failures are logged, shown in
// the status line and tried again.
func Run(ctx context.Context, opts Options) error {
	opts.defaults()
	if opts.Engine == nil {
		return errors.New("watch: no engine given")
	}
	root, err := filepath.Abs(opts.Root)
	if err != nil {
		return fmt.Errorf("watch: root: %w", err)
	}
	dog, err := report.WatchdogInterval()
	if err != nil {
		return fmt.Errorf("watch: %w", err)
	}
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch: %w: raise fs.inotify.max_user_instances if too many are in use", err)
	}
	defer fw.Close()
	state := opts.Engine.StateDir()
	w := &watcher{opts: opts, root: root, fw: fw, applied: filepath.Join(state, appliedFile),
		set: newWatchSet(fw, root, state, opts.Logf)}

	pctx, stopPull := context.WithCancel(ctx)
	pulled := make(chan struct{})
	go func() {
		defer close(pulled)
		pullLoop(pctx, opts)
	}()
	err = w.loop(ctx, dog)
	if err == nil {
		if serr := report.Stopping("stopping"); serr != nil {
			opts.Logf("watch: %v", serr)
		}
	}
	stopPull()
	<-pulled
	return err
}

// watcher is the state of one Run; only its loop goroutine touches it.
type watcher struct {
	opts    Options
	root    string
	fw      *fsnotify.Watcher
	applied string
	set     *watchSet

	derived   bool              // set holds the paths of generation gen
	gen       *apply.Generation // the current generation, nil before any apply
	ready     bool              // READY=1 was sent
	last      string            // fingerprint of the drift last given to OnDrift
	drifted   int               // how many targets OnDrift was last given
	status    string            // the status line last sent
	healFails int               // heals that failed in a row (not for the lock)
}

// loop waits for events, errors and timers. A check runs when the check
// timer fires: Debounce after the first interesting event, at once after
// an overflow, Retry after the lock was found held.
func (w *watcher) loop(ctx context.Context, dog time.Duration) error {
	timer := time.NewTimer(0)
	armed, full := true, true
	due := time.Now()
	arm := func(d time.Duration) {
		at := time.Now().Add(d)
		if armed && !at.Before(due) {
			return
		}
		timer.Reset(d)
		armed, due = true, at
	}
	defer timer.Stop()
	var rescan, heartbeat <-chan time.Time
	if w.opts.Rescan > 0 {
		t := time.NewTicker(w.opts.Rescan)
		defer t.Stop()
		rescan = t.C
	}
	if dog > 0 {
		w.watchdog()
		t := time.NewTicker(dog / 2)
		defer t.Stop()
		heartbeat = t.C
	}
	var injected chan error
	if h := w.opts.hooks; h != nil {
		injected = h.errors
	}
	for {
		if h := w.opts.hooks; h != nil && h.hold != nil {
			// An empty critical section: wait while a test holds the loop.
			h.hold.Lock()
			h.hold.Unlock()
		}
		var err error
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.fw.Events:
			if !ok {
				return errors.New("watch: the inotify watcher closed")
			}
			if ev.Name == w.applied || w.set.route(ev.Name) {
				arm(w.opts.Debounce)
			}
			continue
		case err = <-w.fw.Errors:
		case err = <-injected:
		case <-rescan:
			full = true
			arm(0)
			continue
		case <-heartbeat:
			w.watchdog()
			continue
		case <-timer.C:
			armed = false
			retry, err := w.check(ctx, full)
			if err != nil {
				return err
			}
			if retry {
				arm(w.retryDelay())
				continue
			}
			full = false
			continue
		}
		if errors.Is(err, fsnotify.ErrEventOverflow) {
			w.opts.Logf("watch: the kernel dropped events (inotify queue overflow); checking every managed path")
			full = true
			arm(0)
		} else if err != nil {
			w.opts.Logf("watch: %v", err)
		}
	}
}

func (w *watcher) watchdog() {
	if err := report.Watchdog(); err != nil {
		w.opts.Logf("watch: %v", err)
	}
}
