package commands

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"time"

	"trail/apply/internal/proc"
	"trail/apply/kind"
	"trail/apply/kinds/paths"
	"trail/stepfmt"
)

// Command runs CMD steps: `run` once when the step is added (or its
// run, creates or unless change), `undo` when it is removed.
//
// Commands run with /bin/sh -c, stdin from /dev/null, in a clean
// environment (PATH, HOME=/root, LANG=C.UTF-8, TRAIL_ROOT and the
// TRAIL_RUN token every program trail runs carries), in their own
// process group, which is killed when the step's timeout passes, and by
// the next trail if this one is killed (proc.RunChild). With the
// root "/" they run in "/". With any other root they run on the host, not
// chrooted — a sandbox or image root need not hold a shell — with the
// working directory at the root and TRAIL_ROOT naming it, so that a
// command written for a root uses relative paths or $TRAIL_ROOT. What a
// command prints (stdout and stderr together, cut to outputLimit) goes
// into the step's event and so into the journal.
//
// Guards: when `creates` (a path under the root) exists, or `unless` exits
// 0, the command's effect is already there and run is skipped. A plan
// evaluates the guards too (creates against the plan's prediction, so a
// FILE step earlier in the list counts; unless by running it, which must
// therefore only look). A command's
// image is "done" (its effect is there) or absent. The pre-image of a new
// step is "done" when a guard holds, so the reverse of a step whose run
// was skipped runs nothing: trail undoes only what it did. A removed step
// whose pre-image is absent runs undo — unless a guard now shows the effect
// gone (creates missing, or unless failing), which also makes the undo of
// an interrupted apply safe to repeat. Without guards, undo must be safe
// to run when run did not finish (as Debian's maintainer scripts must be).
// Undoing a removal (a failed or interrupted apply) runs run again, unless
// a guard shows the effect there; without guards, run must be safe to run
// when undo did not.
// A modify runs the new run (guards apply) when run, creates or unless
// changed; a changed undo or timeout only replaces what removal runs.
// Commands never drift.
type Command struct{}

// commandNS is the namespace of command identities.
const commandNS = "command"

const stDone = "done"

// outputLimit caps the output kept from one command.
const outputLimit = 8 << 10

// guardKeys are the attributes that decide whether and what run runs.
var guardKeys = []string{"run", "creates", "unless"}

// Check plans running the command, or skipping it when a guard holds.
func (Command) Check(v *kind.View, s *stepfmt.Step, prior *kind.Record) (kind.Work, error) {
	after := kind.Image{State: stDone}
	for _, k := range guardKeys {
		if val, ok := s.Get(k); ok {
			after.Attrs = append(after.Attrs, stepfmt.Attr{Key: k, Value: val})
		}
	}
	w := kind.Work{Before: kind.Absent(), After: after, Target: after}
	if prior != nil && prior.Wrote.Equal(after) {
		w.Before = after
		return w, nil
	}
	held, why, err := guarded(v, s)
	if err != nil {
		return kind.Work{}, err
	}
	if held {
		w.Before = after
		w.Notes = []string{"run skipped: " + why}
		return w, nil
	}
	w.Changes = []string{"run: " + s.Value("run")}
	return w, nil
}

// guarded reports whether a guard of s says its effect is there, and why.
// During a plan, creates is looked up in the plan's prediction.
func guarded(v *kind.View, s *stepfmt.Step) (bool, string, error) {
	if c, ok := s.Get("creates"); ok {
		p, err := paths.ViewOf(v, c)
		if err != nil {
			return false, "", fmt.Errorf("creates %s: %w", c, err)
		}
		if !p.Absent() {
			return true, c + " exists", nil
		}
	}
	if u, ok := s.Get("unless"); ok {
		_, err := runShell(context.Background(), v.Exec(), u, timeoutOf(s))
		var exit *exec.ExitError
		switch {
		case err == nil:
			return true, "unless `" + u + "` exits 0", nil
		case !errors.As(err, &exit):
			return false, "", fmt.Errorf("unless: %w", err)
		}
	}
	return false, "", nil
}

// CheckRestore plans running undo, when the pre-image says trail's run
// made the effect and no guard shows it gone already.
func (Command) CheckRestore(v *kind.View, s *stepfmt.Step, img kind.Image) (kind.Work, error) {
	w := kind.Work{Before: kind.Image{State: stDone}, After: img, Target: img}
	if img.Value(attrRunAgain) == "true" {
		held, why, err := guarded(v, s)
		if err != nil {
			return kind.Work{}, err
		}
		if held {
			w.Notes = []string{"run skipped: " + why}
			return w, nil
		}
		w.Before = kind.Absent()
		w.Changes = []string{"run again: " + s.Value("run")}
		return w, nil
	}
	if !img.IsAbsent() {
		return w, nil
	}
	_, creates := s.Get("creates")
	_, unless := s.Get("unless")
	if creates || unless {
		held, _, err := guarded(v, s)
		if err != nil {
			return kind.Work{}, err
		}
		if !held {
			w.Notes = []string{"undo skipped: its guard shows the effect gone"}
			return w, nil
		}
	}
	w.Changes = []string{"undo: " + s.Value("undo")}
	return w, nil
}

// Capture returns "done" when a guard already holds, else absent.
func (Command) Capture(x *kind.Exec, s *stepfmt.Step) (kind.Image, error) {
	held, _, err := guarded(kind.NewView(x), s)
	if err != nil || !held {
		return kind.Absent(), err
	}
	return kind.Image{State: stDone}, nil
}

// CaptureFrom gives a step trail already manages the pre-image "done": its
// run took effect in an earlier generation, which undoing this apply must
// not reverse.
func (k Command) CaptureFrom(x *kind.Exec, s *stepfmt.Step, rec *kind.Record) (kind.Image, error) {
	if rec != nil {
		return kind.Image{State: stDone}, nil
	}
	return k.Capture(x, s)
}

// Forward runs run.
func (Command) Forward(x *kind.Exec, s *stepfmt.Step, w kind.Work) error {
	return runReported(x, s, "run", s.Value("run"))
}

// Restore runs undo, or run again to undo a removal.
func (Command) Restore(x *kind.Exec, s *stepfmt.Step, img kind.Image, w kind.Work) error {
	if img.Value(attrRunAgain) == "true" {
		return runReported(x, s, "run", s.Value("run"))
	}
	return runReported(x, s, "undo", s.Value("undo"))
}

// attrRunAgain marks the undo image of a removal that runs undo: undoing
// it puts the effect back by running run again.
const attrRunAgain = "run-again"

// UndoImage of the removal of a step whose run trail made (its origin is
// absent, so the removal runs undo) is "done run-again=true": a rollback
// or a recovery runs run again, unless a guard shows the effect there.
// Every other change keeps its pre-image.
func (Command) UndoImage(x *kind.Exec, c stepfmt.Change, pre kind.Image, rec *kind.Record) (kind.Image, error) {
	if c.Op != stepfmt.OpRemove || rec == nil || !rec.Origin.IsAbsent() {
		return pre, nil
	}
	return kind.Image{State: stDone, Attrs: []stepfmt.Attr{{Key: attrRunAgain, Value: "true"}}}, nil
}

// Drift: a command's effect cannot be read back, so it never drifts.
func (Command) Drift(x *kind.Exec, target string, wrote kind.Image) (kind.Image, error) {
	return wrote, nil
}

// runReported runs script for step s, handing its output to the event.
func runReported(x *kind.Exec, s *stepfmt.Step, what, script string) error {
	out, err := runShell(context.Background(), x, script, timeoutOf(s))
	if out != "" {
		x.Report(what + " output: " + out)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, withOutput(err, out))
	}
	return nil
}

// timeoutOf returns the step's timeout (required by the step language;
// a minute if a hand-made step lacks it).
func timeoutOf(s *stepfmt.Step) time.Duration {
	if d, err := time.ParseDuration(s.Value("timeout")); err == nil && d > 0 {
		return d
	}
	return time.Minute
}

// runShell runs script with /bin/sh -c on x's root (see Command and
// proc.Shell); it returns the output, cut to outputLimit.
func runShell(ctx context.Context, x *kind.Exec, script string, timeout time.Duration) (string, error) {
	var out capped
	err := proc.Shell(ctx, x.Root.Dir(), script, timeout, &out)
	return out.String(), err
}

// withOutput adds the tail of a command's output to its error.
func withOutput(err error, out string) error {
	if out == "" {
		return err
	}
	if len(out) > 1024 {
		out = "…" + out[len(out)-1024:]
	}
	return fmt.Errorf("%w; output: %s", err, strconv.Quote(out))
}

// capped keeps the first and the last outputLimit/2 bytes written to it.
// The tail is cut back only when it holds twice that, so each byte is
// moved at most once however small the writes.
type capped struct {
	head, tail []byte
	cut        int64
}

func (c *capped) Write(p []byte) (int, error) {
	n := len(p)
	if room := outputLimit/2 - len(c.head); room > 0 {
		k := min(room, len(p))
		c.head = append(c.head, p[:k]...)
		p = p[k:]
	}
	c.tail = append(c.tail, p...)
	if len(c.tail) > outputLimit {
		over := len(c.tail) - outputLimit/2
		c.cut += int64(over)
		c.tail = append(c.tail[:0], c.tail[over:]...)
	}
	return n, nil
}

// String returns the output kept, marking where bytes were cut.
func (c *capped) String() string {
	tail, cut := c.tail, c.cut
	if over := len(tail) - outputLimit/2; over > 0 {
		tail, cut = tail[over:], cut+int64(over)
	}
	var b bytes.Buffer
	b.Write(c.head)
	if cut > 0 {
		fmt.Fprintf(&b, "\n… %d bytes cut …\n", cut)
	}
	b.Write(tail)
	return string(bytes.TrimRight(b.Bytes(), "\n"))
}
