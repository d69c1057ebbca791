package host

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"trail/report"
)

// Pull is what the backstop timer runs: on a branch, fetch and fast-forward
// to the upstream (the post-merge hook applies what it brings); pinned, no
// pull at all. Then HEAD is applied if it is not the applied commit, which
// also catches a `git reset --hard` or a hook that did not run.
func (h *Host) Pull(ctx context.Context) (*Outcome, error) {
	head, err := h.Checkout.ReadHead()
	if err != nil {
		return nil, err
	}
	if head.Pinned() {
		fmt.Fprintf(h.Out, "trail: pinned at %s (detached HEAD): not pulling; 'git checkout BRANCH' releases the pin\n", Short(head.Commit))
		// A pinned host does not pull: what the upstream did is not its refusal.
		h.notePullRefusal(nil)
		// Fetching moves no HEAD, and status can then say how far behind the pin is.
		if err := h.fetch(ctx, head.Branch); err != nil {
			fmt.Fprintf(h.Err, "trail: %v\n", err)
		}
	} else if _, err := h.git("rev-parse", "--verify", "--quiet", "@{upstream}"); err != nil {
		fmt.Fprintf(h.Out, "trail: branch %s has no upstream: not pulling (git branch --set-upstream-to origin/%s sets one)\n", head.Branch, head.Branch)
	} else if err := h.fastForward(ctx, head.Commit, head.Branch); err != nil {
		h.WriteMetrics(nil)
		return nil, err
	}
	out, err := h.Apply(ctx, ApplyOptions{Auto: true})
	if err != nil {
		return out, err
	}
	if out.Skipped != "" {
		fmt.Fprintf(h.Err, "trail: not applying: %s\n", out.Skipped)
	}
	if out.NoOp {
		h.WriteMetrics(nil)
	}
	return out, nil
}

// PullRefusal is an upstream trail pull would not move to: one that is not
// a descendant of HEAD, because its history was rewound or force-pushed
// (or commits were made on the host). Moving there would take the host back
// to a commit nobody chose on it: a downgrade.
type PullRefusal struct {
	Time     time.Time `json:"time"`
	Upstream string    `json:"upstream"` // its name, such as origin/main
	At       string    `json:"at"`       // the commit it is at
	Head     string    `json:"head"`
	Reason   string    `json:"reason"`
}

// fastForward fetches and moves the branch to its upstream only when that
// is a descendant of HEAD, with the checked commit itself merged, so a
// fetch in between cannot slip another in. The post-merge hook applies it.
func (h *Host) fastForward(ctx context.Context, head, branch string) error {
	if err := h.fetch(ctx, branch); err != nil {
		return err
	}
	name, err := h.git("rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{upstream}")
	if err != nil {
		return err
	}
	at, err := h.git("rev-parse", "--verify", "@{upstream}^{commit}")
	if err != nil {
		return err
	}
	if at == head {
		h.notePullRefusal(nil)
		return nil
	}
	if _, err := h.git("merge-base", "--is-ancestor", head, at); err != nil {
		lacks, _ := h.git("rev-list", "--count", at+"..HEAD")
		p := &PullRefusal{Time: time.Now(), Upstream: name, At: at, Head: head,
			Reason: fmt.Sprintf("%s at %s is not a descendant of HEAD %s, which has %s commit(s) it lacks: its history was rewound or force-pushed, and trail pull never moves a host back",
				name, Short(at), Short(head), lacks)}
		h.notePullRefusal(p)
		h.send(report.Record{
			Event: report.EventRefusal, Result: report.ResultFailed, Priority: report.PriorityCrit,
			Message: "pull refused: " + p.Reason, Commit: at, Branch: branch, Time: p.Time,
		})
		return fmt.Errorf("pull refused: %s; nothing was changed (to go back on purpose: 'git checkout %s' pins it, or 'git reset --hard %s' on the branch)", p.Reason, Short(at), name)
	}
	if err := h.runGit(ctx, "merge", "--ff-only", "--quiet", at); err != nil {
		return err
	}
	h.notePullRefusal(nil)
	return nil
}

// runGit runs git in the checkout for a command whose output and hooks the
// user sees.
func (h *Host) runGit(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = h.Checkout.Dir
	cmd.Env = append(gitEnv(), "GIT_TERMINAL_PROMPT=0")
	cmd.Stdout, cmd.Stderr = h.Out, h.Err
	cmd.Stdin = nil
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("git %s in %s: %w", args[0], h.Checkout.Dir, err)
	}
	return nil
}

// notePullRefusal records p as the standing pull refusal, or clears it.
func (h *Host) notePullRefusal(p *PullRefusal) {
	r, err := h.loadRecord()
	if err != nil {
		fmt.Fprintf(h.Err, "trail: %v\n", err)
		return
	}
	if p == nil && r.PullRefused == nil {
		return
	}
	r.PullRefused = p
	if err := h.saveRecord(r); err != nil {
		fmt.Fprintf(h.Err, "trail: %v\n", err)
	}
}

// PullProblem is a fetch that failed: the remote is gone, unreachable or
// refuses the host's credentials. The host keeps what it has, so it is a
// warning, until a fetch succeeds.
type PullProblem struct {
	Since time.Time `json:"since"` // the first failure in a row
	Time  time.Time `json:"time"`  // the last one
	Error string    `json:"error"`
}

// fetch runs git fetch and keeps score: a failure is counted, recorded
// with git's own words and sent to the journal at warning; a success
// clears it and stamps the time, for trail_last_pull_success_timestamp_seconds.
func (h *Host) fetch(ctx context.Context, branch string) error {
	cmd := exec.CommandContext(ctx, "git", "fetch", "--quiet")
	cmd.Dir = h.Checkout.Dir
	cmd.Env = append(gitEnv(), "GIT_TERMINAL_PROMPT=0")
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = h.Out, &stderr
	runErr := cmd.Run()
	now := time.Now()
	r, err := h.loadRecord()
	if err != nil {
		fmt.Fprintf(h.Err, "trail: %v\n", err)
	}
	if runErr == nil {
		h.Err.Write(stderr.Bytes())
		r.PullError, r.LastPullSuccess = nil, now
		if err := h.saveRecord(r); err != nil {
			fmt.Fprintf(h.Err, "trail: %v\n", err)
		}
		return nil
	}
	cause := strings.Join(strings.Fields(stderr.String()), " ")
	if cause == "" {
		cause = runErr.Error()
	}
	p := &PullProblem{Since: now, Time: now, Error: cause}
	if r.PullError != nil {
		p.Since = r.PullError.Since
	}
	r.PullError = p
	r.PullFailures++
	if err := h.saveRecord(r); err != nil {
		fmt.Fprintf(h.Err, "trail: %v\n", err)
	}
	h.send(report.Record{
		Event: report.EventPull, Result: report.ResultFailed, Priority: report.PriorityWarning,
		Message: "git fetch failed: " + cause, Branch: branch, Time: now,
	})
	return fmt.Errorf("git fetch in %s: %w: %s (the host keeps what it has; check the remote, and the credentials in HOME=%s)", h.Checkout.Dir, runErr, cause, homeOf())
}
