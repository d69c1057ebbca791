package watch

import (
	"context"
	"errors"
	"fmt"
	"time"

	"trail/apply"
	"trail/report"
)

// check runs one drift check: it follows a new generation (re-deriving
// the watch set), brings the watches in line, lists drift, heals what has
// the heal policy and reports what is left. It asks to be retried when an
// apply holds the lock. Its error is fatal only before READY.
func (w *watcher) check(ctx context.Context, full bool) (retry bool, err error) {
	g, err := w.opts.Engine.Current()
	if err != nil {
		return false, w.failed(fmt.Errorf("read the applied generation: %w", err))
	}
	if !w.derived || number(g) != number(w.gen) {
		if err := w.follow(g); err != nil {
			return false, w.failed(err)
		}
	} else {
		w.set.sync(full)
	}
	drift, err := w.opts.Engine.Drift()
	if isLock(err) {
		return true, nil
	}
	if err != nil {
		return false, w.failed(fmt.Errorf("drift check: %w", err))
	}
	if !wantsHeal(drift) {
		w.healFails = 0
	} else {
		healed, err := w.opts.Engine.Heal(ctx)
		if err == nil {
			w.healFails = 0
		}
		switch {
		case isLock(err):
			retry = true
		case err != nil:
			// Nothing may come to arm another check (a heal refused
			// leaves no trace the loop watches), so it is tried again.
			w.healFails++
			w.opts.Logf("watch: heal: %v (trying again in %s)", err, w.retryDelay())
			retry = true
		case healed != nil:
			if drift, err = w.opts.Engine.Drift(); isLock(err) {
				return true, nil
			} else if err != nil {
				return false, w.failed(fmt.Errorf("drift check after heal: %w", err))
			}
		}
	}
	w.report(drift)
	return retry, nil
}

// follow derives the watch set from generation g's step list.
func (w *watcher) follow(g *apply.Generation) error {
	p := &paths{targets: map[string]struct{}{}, dirs: map[string]struct{}{}}
	if g != nil {
		l, err := g.Steps()
		if err != nil {
			return err
		}
		p = derive(w.root, l)
	}
	w.set.replace(p)
	w.gen, w.derived = g, true
	return nil
}

// report gives OnDrift the reportable drift when it changed, and updates
// the status line; the first report sends READY=1.
func (w *watcher) report(drift []apply.Drift) {
	shown := reportable(drift)
	fp := fingerprint(shown)
	if !w.ready || fp != w.last {
		w.last, w.drifted = fp, len(shown)
		if w.opts.OnDrift != nil {
			w.opts.OnDrift(shown)
		}
	}
	w.setStatus(w.statusLine())
}

// failed reports a failed check: fatal before READY (the service then
// fails to start with the reason), else logged and shown.
func (w *watcher) failed(err error) error {
	err = fmt.Errorf("watch: %w", err)
	if !w.ready {
		return err
	}
	w.opts.Logf("%v", err)
	w.last = "" // report the drift again once a check succeeds
	w.setStatus(err.Error())
	return nil
}

func (w *watcher) setStatus(s string) {
	if w.ready && s == w.status {
		return
	}
	send := report.Status
	if !w.ready {
		send = report.Ready
	}
	if err := send(s); err != nil {
		w.opts.Logf("watch: %v", err)
	}
	w.status = s
	if w.opts.Status != nil {
		w.opts.Status(s)
	}
	if !w.ready {
		w.ready = true
		if h := w.opts.hooks; h != nil && h.ready != nil {
			h.ready()
		}
	}
}

// statusLine says what the machine runs and how it stands, e.g.
// "applied 3f2a1c4 (main) generation 12, 0 drifted, watching 101 directories".
func (w *watcher) statusLine() string {
	if w.gen == nil {
		return "nothing applied yet, " + w.set.String()
	}
	s := "applied " + short(w.gen.Commit)
	if w.gen.Branch != "" {
		s += " (" + w.gen.Branch + ")"
	}
	return fmt.Sprintf("%s generation %d, %d drifted, %s", s, w.gen.Number, w.drifted, w.set)
}

func short(commit string) string {
	if len(commit) > 7 {
		return commit[:7]
	}
	return commit
}

func number(g *apply.Generation) int {
	if g == nil {
		return 0
	}
	return g.Number
}

// maxHealBackoff caps the doubling of the wait before a failed heal is
// tried again: a heal that keeps failing is logged about once a minute
// (with the default Retry), not every second.
const maxHealBackoff = 6

// retryDelay is how soon a check asking to be retried runs: Retry after a
// held lock, doubled for each heal that failed in a row.
func (w *watcher) retryDelay() time.Duration {
	if w.healFails == 0 {
		return w.opts.Retry
	}
	return w.opts.Retry << min(w.healFails-1, maxHealBackoff)
}

func isLock(err error) bool {
	var le *apply.LockError
	return errors.As(err, &le)
}

func wantsHeal(drift []apply.Drift) bool {
	for _, d := range drift {
		if d.Policy == apply.PolicyHeal && d.Err == nil {
			return true
		}
	}
	return false
}
