package host

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"trail/apply"
	"trail/report"
)

// ApplyOptions say what to apply and on whose behalf.
type ApplyOptions struct {
	// Rev is the revision to apply; "" is HEAD.
	Rev string
	// Auto marks a hook or pull: a commit that failed before is not tried
	// again until HEAD moves, and HEAD being the applied commit is the
	// whole of the work.
	Auto bool
	// Force applies even when the commit is the applied one: every target
	// the list shares with the applied generation is checked against the
	// machine, and each that drifted is put back whatever its drift
	// policy (see apply.Meta.Force).
	Force bool
	// Deliberate marks a commit the admin named (git checkout HASH,
	// trail apply REV, trail rollback): it may remove everything trail
	// manages, where one that came by a pull, the timer or a branch
	// checkout is refused (see apply.Meta).
	Deliberate bool
	// Checkout marks the apply of a post-checkout hook: deliberate when
	// HEAD is detached (git checkout HASH, a pin or a rollback), not when
	// it is on a branch, whose tip is what the remote brought. HEAD is
	// read once, after the no-op check, for both.
	Checkout bool
}

// Outcome is what an apply did.
type Outcome struct {
	Commit string
	Branch string
	NoOp   bool // the commit is the applied one: nothing was read or written
	// Matched is set when the commit was compiled and checked but nothing
	// needed doing: it was applied meanwhile by another trail (a second
	// hook for the same commit), or Force found nothing drifted. What
	// happened is printed already.
	Matched    bool
	Skipped    string // why nothing was tried, when it was not
	Generation *apply.Generation
}

// target resolves what to apply: HEAD (with its branch) or a revision.
func (h *Host) target(rev string) (commit, branch string, err error) {
	head, err := h.Checkout.ReadHead()
	if err != nil {
		return "", "", err
	}
	if rev == "" || rev == "HEAD" {
		if head.Commit == "" {
			return "", "", errors.New("the checkout has no commits yet: commit a config first")
		}
		return head.Commit, head.Branch, nil
	}
	r, err := h.Repo()
	if err != nil {
		return "", "", err
	}
	commit, err = r.Resolve(rev)
	if err != nil {
		return "", "", err
	}
	if c, err := h.Checkout.ResolveRef("refs/heads/" + rev); err == nil && c == commit {
		branch = rev
	}
	return commit, branch, nil
}

// processStart is as near the process's start as Go code sees; the first
// apply of a process states its time from there, so the "applied ... in T"
// line is what the admin waited for: start-up, compile and staging as well
// as the engine. Later applies of a long-lived process (trail watch's
// pulls) count from their own start.
var (
	processStart      = time.Now()
	processStartTaken atomic.Bool
)

// clockStart is when an apply that began at begun states its time from.
func clockStart(begun time.Time) time.Time {
	if processStartTaken.CompareAndSwap(false, true) {
		return processStart
	}
	return begun
}

// applyCommit is Apply (crash.go) without its recovery.
func (h *Host) applyCommit(ctx context.Context, o ApplyOptions) (*Outcome, error) {
	since := clockStart(time.Now())
	commit, branch, err := h.target(o.Rev)
	if err != nil {
		return nil, err
	}
	h.attempt = commit
	out := &Outcome{Commit: commit, Branch: branch}
	e, err := h.Engine()
	if err != nil {
		return nil, err
	}
	cur, err := e.Current()
	if err != nil {
		return nil, err
	}
	if cur != nil && cur.Commit == commit && !o.Force {
		out.NoOp = true
		return out, nil
	}
	h.diedCompiling()
	if o.Checkout && o.Rev == "" && branch == "" {
		o.Deliberate = true
	}
	if o.Auto {
		if r, err := h.loadRecord(); err == nil && r.Failure != nil && r.Failure.Commit == commit {
			out.Skipped = fmt.Sprintf("%s failed at %s and HEAD has not moved since: fix the config and commit, or run 'trail apply' to try again",
				Short(commit), r.Failure.Time.Format(time.DateTime))
			if r.Failure.Untrusted {
				out.Skipped = fmt.Sprintf("%s was refused at %s as untrusted (its signature does not verify) and HEAD has not moved since",
					Short(commit), r.Failure.Time.Format(time.DateTime))
			}
			if r.Failure.Refused {
				out.Skipped = fmt.Sprintf("%s was refused at %s as a mass removal and HEAD has not moved since: if it is meant, 'trail apply %s' applies it",
					Short(commit), r.Failure.Time.Format(time.DateTime), Short(commit))
			}
			return out, nil
		}
	}
	start := time.Now()
	if err := h.verifyCommit(commit, o.Deliberate); err != nil {
		var ue *UntrustedError
		h.failed(Failure{Commit: commit, Time: start, Error: err.Error(), Untrusted: errors.As(err, &ue)}, branch)
		return out, err
	}
	h.compileStarts(commit)
	h.crashPoint("compile")
	c, err := h.compileUnread(commit)
	h.compileDone()
	if err != nil {
		h.failed(Failure{Commit: commit, Time: start, Error: err.Error(), Source: sourceOf(err)}, branch)
		return out, err
	}
	for _, w := range c.Warnings {
		h.send(report.Record{Event: report.EventApply, Priority: report.PriorityWarning, Message: "compile: " + w,
			Commit: commit, Branch: branch, Time: start})
	}
	announced := false
	announce := func() {
		if !announced {
			fmt.Fprintf(h.Out, "trail: applying %s%s %q\n", Short(commit), branchNote(branch), c.Commit.Subject)
			if c.NoConfig {
				fmt.Fprintf(h.Out, "trail: %s has no trail config (no *.hcl file at its root): it manages nothing\n", Short(commit))
			}
		}
		announced = true
	}
	if c.listOf != nil {
		if o.Force {
			announce()
			done, err := h.forceMatched(e, c, o, out, branch, start)
			if done || err != nil {
				return out, err
			}
		}
		if err := h.readList(&c, commit); err != nil {
			h.failed(Failure{Commit: commit, Time: start, Error: err.Error(), Source: sourceOf(err)}, branch)
			return out, err
		}
	}
	c.dropProvenance()
	if err := h.stage(c); err != nil {
		f := Failure{Commit: commit, Time: start, Error: err.Error()}
		var se *StageError
		if errors.As(err, &se) {
			f.Step, f.Source = se.Step, se.Source
		}
		h.failed(f, branch)
		return out, err
	}
	// The contents are in the store: the git objects and their caches are
	// not needed again by this apply, nor what the compile kept beside the
	// list (where each step came from, where its content was): for a tree
	// of 100,000 files that is 30 MB the plan and run would hold too.
	c.tree = nil
	c.dropCompiled()
	h.releaseRepo()
	announce()
	h.applying = true
	h.crashPoint("apply")
	meta := apply.Meta{Commit: commit, Branch: branch, Host: c.List.Header.Host, Subject: c.Commit.Subject,
		Deliberate: o.Deliberate, Force: o.Force, ReadFrom: c.generation}
	if c.unchecked {
		meta.Fetch = func(keys []string) error { return h.fetchContents(commit, keys) }
	}
	g, err := e.Apply(ctx, c.List, meta)
	out.Generation, h.applying = g, false
	var mass *apply.MassRemovalError
	if errors.As(err, &mass) {
		err = fmt.Errorf("%w: nothing was changed; only a commit named by 'git checkout HASH', 'trail apply REV' or 'trail rollback' may remove that much: if it is meant, 'trail apply %s' applies it", err, Short(commit))
	}
	if h.shown > maxShown {
		fmt.Fprintf(h.Out, "  ... and %d more (trail log, or the journal, has them all)\n", h.shown-maxShown)
	}
	if err != nil {
		f := Failure{Commit: commit, Time: start, Error: err.Error(), Refused: mass != nil}
		if g != nil {
			f.Generation, f.Step, f.Source = g.Number, g.ErrorStep, g.ErrorSource
		}
		h.failed(f, branch)
		return out, err
	}
	h.clearFailure()
	h.saveCompiled(c, g)
	if g.NoOp {
		// g is the applied generation: its counts are another run's.
		out.Matched = true
		if o.Force {
			fmt.Fprintf(h.Out, "trail: %s is applied and its %d targets match the machine: nothing to do\n", Short(commit), len(c.List.Steps))
		} else {
			fmt.Fprintf(h.Out, "trail: %s was applied meanwhile by another trail (generation %d): nothing to do\n", Short(commit), g.Number)
		}
		h.writeMetricsAfterApply()
		return out, nil
	}
	n := g.Counts
	fmt.Fprintf(h.Out, "trail: applied %s as generation %d in %s: %d added, %d modified, %d removed, %d unchanged%s\n",
		Short(commit), g.Number, time.Since(since).Round(time.Millisecond), n.Added, n.Modified, n.Removed, n.Unchanged, drifted(n))
	for _, k := range g.Kept {
		fmt.Fprintf(h.Out, "trail: kept %s\n", k)
	}
	h.writeMetricsAfterApply()
	return out, nil
}

// forceMatched is a --force of the applied generation's list, not read,
// that finds nothing drifted (apply's ForceMatches): done when it did,
// false when the list is to be read and applied.
func (h *Host) forceMatched(e *apply.Engine, c *Compiled, o ApplyOptions, out *Outcome, branch string, start time.Time) (bool, error) {
	commit := c.Commit.Hash
	h.applying = true
	h.crashPoint("apply")
	g, n, err := e.ForceMatches(apply.Meta{Commit: commit, Branch: branch, Host: c.Facts.Hostname, Subject: c.Commit.Subject,
		Deliberate: o.Deliberate, Force: true, ReadFrom: c.generation})
	h.applying = false
	if err != nil {
		h.failed(Failure{Commit: commit, Time: start, Error: err.Error()}, branch)
		return true, err
	}
	if g == nil {
		return false, nil
	}
	out.Generation, out.Matched = g, true
	h.clearFailure()
	h.saveCompiled(c, g)
	fmt.Fprintf(h.Out, "trail: %s is applied and its %d targets match the machine: nothing to do\n", Short(commit), n)
	h.writeMetricsAfterApply()
	return true, nil
}

// drifted notes the targets found changed by hand, saved before they were
// put back or replaced, and those found gone, which left nothing to save.
func drifted(n apply.Counts) string {
	switch saved := n.Drifted - n.DriftedGone; {
	case n.Drifted == 0:
		return ""
	case n.DriftedGone == 0:
		return fmt.Sprintf(" (%d found changed by hand: saved first)", n.Drifted)
	case saved == 0:
		return fmt.Sprintf(" (%d found removed by hand: nothing to save)", n.Drifted)
	default:
		return fmt.Sprintf(" (%d found changed by hand: %d saved first, %d gone: nothing to save)", n.Drifted, saved, n.DriftedGone)
	}
}

// failed records and reports a failed apply of commit.
func (h *Host) failed(f Failure, branch string) {
	h.noteFailure(f)
	var gen uint64
	if f.Generation > 0 {
		gen = uint64(f.Generation)
	}
	h.send(report.Record{
		Event: report.EventFailure, Result: report.ResultFailed, Priority: report.PriorityErr,
		Message: "apply failed: " + f.Error, Commit: f.Commit, Branch: branch,
		Generation: gen, Step: f.Step, Source: f.Source, Time: f.Time,
	})
	h.writeMetricsAfterApply()
}

func sourceOf(err error) string {
	var ce *CompileError
	if errors.As(err, &ce) {
		return ce.Source()
	}
	return ""
}

func branchNote(branch string) string {
	if branch == "" {
		return " (detached)"
	}
	return " (" + branch + ")"
}
