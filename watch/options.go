package watch

import (
	"context"
	"sync"
	"time"

	"trail/apply"
)

// Options configure Run. Engine and Root are required; the rest have
// defaults or are off when zero.
type Options struct {
	// Engine checks drift and heals. Run calls it from one goroutine only;
	// nothing else may use it while Run runs (Pull opens its own). Its
	// LockTimeout should be short (0 is fine): a check that finds the
	// lock held by an apply is retried, and a long wait would starve the
	// watchdog.
	Engine *apply.Engine
	// Root is the engine's root (apply.Options.Root): managed targets are
	// watched under it. "" is "/".
	Root string

	// Interval is how often Pull runs, as a backstop for pushes the hooks
	// miss; 0 never runs it.
	Interval time.Duration
	// Jitter is the most random delay added to each interval, so a fleet
	// does not pull at the same second.
	Jitter time.Duration
	// Pull fetches and applies upstream (the `trail pull` logic); the
	// caller leaves it nil when the checkout is pinned. It runs in its own
	// goroutine, never twice at once, and must not use Engine. Its error
	// is logged and the next interval tries again.
	Pull func(ctx context.Context) error

	// Rescan is the period of a full drift check, a safety net for events
	// the kernel did not deliver; 0 is DefaultRescan, negative never.
	Rescan time.Duration
	// Debounce is how long after the first event under a managed path the
	// check runs, so a burst of writes costs one check; 0 is
	// DefaultDebounce.
	Debounce time.Duration
	// Retry is how soon a check that found the lock held (an apply is
	// running) is tried again, and the first wait after a failed heal
	// (doubled for each failure in a row); 0 is DefaultRetry.
	Retry time.Duration

	// OnDrift receives the drift of every check whose result differs from
	// the one before (and the first): every drifted target whose policy
	// is not ignore, in the applied order, after heal-policy targets were
	// put back. An empty list means nothing is drifted (any more). Fresh
	// picks the entries that are new since the previous call.
	OnDrift func([]apply.Drift)
	// Status receives every status line also sent to systemd as STATUS=,
	// e.g. "applied 3f2a1c4 (main) generation 12, 0 drifted, watching 101
	// directories".
	Status func(string)
	// Logf receives problems the watcher survives: a failed check, heal or
	// pull, a directory it cannot watch, an inotify overflow. Nil discards
	// them. The pull goroutine calls it too, so it must be safe for
	// concurrent use; OnDrift and Status are called from Run's loop only.
	Logf func(format string, args ...any)

	// hooks are test-only seams; nil in production.
	hooks *hooks
}

// Defaults for the zero Options fields.
const (
	DefaultRescan   = 10 * time.Minute
	DefaultDebounce = 50 * time.Millisecond
	DefaultRetry    = time.Second
)

// hooks let tests reach the branches the kernel rarely takes. errors
// carries errors into the loop exactly as if fsnotify's Errors channel had
// delivered them (an fsnotify.ErrEventOverflow there must cause a full
// rescan). hold is locked and unlocked by the loop before it waits for its
// next input, so a test holding it stops the loop from reading events and
// can make the kernel queue overflow for real. ready is called after
// READY=1 was sent.
type hooks struct {
	errors chan error
	hold   *sync.Mutex
	ready  func()
}

func (o *Options) defaults() {
	if o.Root == "" {
		o.Root = "/"
	}
	if o.Rescan == 0 {
		o.Rescan = DefaultRescan
	}
	if o.Debounce <= 0 {
		o.Debounce = DefaultDebounce
	}
	if o.Retry <= 0 {
		o.Retry = DefaultRetry
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
}
