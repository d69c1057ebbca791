package host

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"trail/apply"
)

// Status levels, in the Nagios convention.
const (
	OK       = 0
	Warning  = 1
	Critical = 2
)

// Status is what a host runs and whether that is well.
type Status struct {
	Level    int      `json:"level"` // OK, Warning or Critical
	State    string   `json:"state"` // "ok", "warning" or "critical"
	Problems []string `json:"problems,omitempty"`

	Checkout string `json:"checkout"`
	Root     string `json:"root"`
	StateDir string `json:"state_dir"`

	Head     string `json:"head"`
	Branch   string `json:"branch,omitempty"`
	Pinned   bool   `json:"pinned"`
	Upstream string `json:"upstream,omitempty"`
	Behind   int    `json:"behind"`
	Ahead    int    `json:"ahead"`
	// UpstreamAt is the commit the branch's upstream (or, when pinned, the
	// branch the pin came from is unknown, so "") is at.
	UpstreamAt string `json:"upstream_at,omitempty"`

	Applied *Applied `json:"applied,omitempty"`
	Pending bool     `json:"pending"` // HEAD is not the applied commit

	Drift     []DriftItem `json:"drift"`
	LastError *Failure    `json:"last_error,omitempty"`
	// PullRefused is an upstream trail pull refused to move to (pull.go).
	PullRefused *PullRefusal `json:"pull_refused,omitempty"`
	// PullError is a fetch that has been failing (pull.go).
	PullError *PullProblem `json:"pull_error,omitempty"`
	// Store lists the blobs the applied record needs that the content
	// store lacks: a removal or rollback of their targets would fail.
	Store []apply.BlobProblem `json:"store,omitempty"`
}

// Applied is the generation the machine is at.
type Applied struct {
	Generation int       `json:"generation"`
	Commit     string    `json:"commit"`
	Branch     string    `json:"branch,omitempty"`
	Subject    string    `json:"subject,omitempty"`
	Time       time.Time `json:"time"`
}

// DriftItem is a managed target that differs from what trail wrote.
type DriftItem struct {
	Step    string   `json:"step"`
	Policy  string   `json:"policy"`
	Changed []string `json:"changed,omitempty"`
	Error   string   `json:"error,omitempty"`
}

// Status gathers the host's status. Drift is checked (a stat per managed
// target), the upstream is asked of git; nothing is fetched.
func (h *Host) Status() (*Status, error) { return h.status(true, true) }

// status gathers the status, with the store check (a stat per blob the
// applied record needs) and the drift check when asked. Without the store
// check a drift check that fails (an applied record that does not parse)
// leaves the drift empty, as a failed store check would: metrics, which
// gather a status without it, still say how the last apply went.
func (h *Host) status(checkStore, checkDrift bool) (*Status, error) {
	s := &Status{Checkout: h.Checkout.Dir, Root: h.Settings.root(), StateDir: h.Settings.state(), Drift: []DriftItem{}}
	head, err := h.Checkout.ReadHead()
	if err != nil {
		return nil, err
	}
	s.Head, s.Branch, s.Pinned = head.Commit, head.Branch, head.Pinned()
	s.Upstream, s.UpstreamAt, s.Ahead, s.Behind = h.upstream(s.Pinned)
	e, err := h.Engine()
	if err != nil {
		return nil, err
	}
	cur, err := e.Current()
	if errors.Is(err, apply.ErrStateDamaged) {
		s.Problems = append(s.Problems, err.Error())
	} else if err != nil {
		return nil, err
	}
	readable := cur != nil
	if cur != nil {
		s.Applied = &Applied{Generation: cur.Number, Commit: cur.Commit, Branch: cur.Branch, Subject: cur.Subject, Time: cur.End}
		if checkStore {
			if err := s.checkStore(e); err != nil {
				// The applied record does not parse: that is the news, and
				// drift cannot be checked against it.
				s.Problems = append(s.Problems, err.Error()+"; run 'trail fsck'")
				readable = false
			}
		}
	}
	s.Pending = cur == nil || cur.Commit != s.Head
	if rec, err := h.loadRecord(); err == nil {
		s.LastError, s.PullRefused, s.PullError = rec.Failure, rec.PullRefused, rec.PullError
	} else {
		s.Problems = append(s.Problems, err.Error())
	}
	if readable && checkDrift {
		driftChecks.Add(1)
		drift, err := e.Drift()
		if err != nil && !checkStore {
			s.Problems = append(s.Problems, err.Error())
			drift = nil
		} else if err != nil {
			return nil, err
		} else {
			h.noteDrifted(countDrifted(drift))
		}
		s.addDrift(drift)
	}
	s.judge()
	return s, nil
}

// addDrift adds what a drift check found to s.Drift.
func (s *Status) addDrift(drift []apply.Drift) {
	for _, d := range drift {
		it := DriftItem{Step: string(d.ID.Kind) + " " + d.ID.Target, Policy: d.Policy, Changed: d.Changed}
		if d.Err != nil {
			it.Error = d.Err.Error()
		}
		s.Drift = append(s.Drift, it)
	}
}

// storeShown caps the store problems status names one by one.
const storeShown = 3

// checkStore finds the blobs the applied record needs that the store
// lacks (a stat each: trail fsck hashes them), each a critical problem.
func (s *Status) checkStore(e *apply.Engine) error {
	probs, err := e.CheckBlobs()
	if err != nil {
		return err
	}
	s.Store = probs
	for i, p := range probs {
		if i == storeShown {
			s.Problems = append(s.Problems, fmt.Sprintf("and %d more blob(s) of the store missing or damaged", len(probs)-storeShown))
			break
		}
		effect := "removing it or rolling back could not restore what was there before trail"
		if p.Need != "pre-image" {
			effect = "healing it could not put back what trail wrote"
		}
		s.Problems = append(s.Problems, fmt.Sprintf("store: %s: %s; run 'trail fsck', then put the blob back from a backup of the state directory", p, effect))
	}
	return nil
}

// Fsck checks the host's state directory thoroughly (apply.Fsck).
func (h *Host) Fsck() (*apply.FsckReport, error) { return apply.Fsck(h.Settings.state()) }

// judge sets the level: critical when the last apply failed, warning when
// something drifted, the host is behind its upstream or HEAD waits to be
// applied.
func (s *Status) judge() {
	crit := func(msg string) { s.Problems = append(s.Problems, msg); s.Level = max(s.Level, Critical) }
	warn := func(msg string) { s.Problems = append(s.Problems, msg); s.Level = max(s.Level, Warning) }
	if len(s.Problems) > 0 {
		s.Level = Critical
	}
	if f := s.LastError; f != nil {
		where := ""
		if f.Source != "" {
			where = " at " + f.Source
		}
		what := "failed"
		if f.Refused {
			what = "refused: it would remove most of what trail manages"
		}
		if f.Untrusted {
			what = "refused: " + f.Error
		}
		crit(fmt.Sprintf("apply of %s %s%s", Short(f.Commit), what, where))
	}
	if p := s.PullRefused; p != nil {
		crit("trail pull refused: " + p.Reason)
	}
	if p := s.PullError; p != nil {
		warn(fmt.Sprintf("git fetch has failed since %s (last at %s): %s", p.Since.Format(time.DateTime), p.Time.Format(time.DateTime), p.Error))
	}
	switch {
	case s.Applied == nil && s.Level < Critical:
		warn("nothing applied yet: run 'trail apply'")
	case s.Applied != nil && s.Pending && s.LastError == nil:
		warn(fmt.Sprintf("HEAD %s is not applied (the host is at %s): run 'trail pull' or 'trail apply'", Short(s.Head), Short(s.Applied.Commit)))
	}
	reported := 0
	for _, d := range s.Drift {
		if d.Policy != apply.PolicyIgnore {
			reported++
		}
	}
	if reported > 0 {
		warn(fmt.Sprintf("%d managed target(s) drifted", reported))
	}
	if s.Behind > 0 && !s.Pinned {
		warn(fmt.Sprintf("%d commit(s) behind %s", s.Behind, s.Upstream))
	}
	s.State = [...]string{"ok", "warning", "critical"}[s.Level]
}

// upstream asks git for the branch's upstream, or for a pinned HEAD the
// remote's default branch ("pinned at X, origin/main is at Y"), and how far
// HEAD is from it.
func (h *Host) upstream(pinned bool) (name, at string, ahead, behind int) {
	var err error
	if pinned {
		name, err = h.git("symbolic-ref", "-q", "--short", "refs/remotes/origin/HEAD")
	} else {
		name, err = h.git("rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{upstream}")
	}
	if err != nil || name == "" {
		return "", "", 0, 0
	}
	at, _ = h.git("rev-parse", name)
	counts, err := h.git("rev-list", "--left-right", "--count", "HEAD..."+name)
	if err != nil {
		return name, at, 0, 0
	}
	if a, b, ok := strings.Cut(counts, "\t"); ok {
		ahead, _ = strconv.Atoi(a)
		behind, _ = strconv.Atoi(b)
	}
	return name, at, ahead, behind
}

// git runs git in the checkout and returns its trimmed output.
func (h *Host) git(args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = h.Checkout.Dir
	cmd.Env = gitEnv()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}
