package commands

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"trail/apply/kind"
	"trail/stepfmt"
)

// Check runs CHECK steps. A check changes nothing on the machine: it is
// a Verifier, run after every change of an apply is made (and after a heal),
// and a failure rolls the whole apply back through the engine's undo path.
//
// `run` runs as a command does (see Command: /bin/sh -c, clean
// environment, TRAIL_ROOT, process group killed at timeout), once and then
// up to `retries` more times, `interval` apart (1s when not given), each
// attempt limited to `timeout`. It passes when an attempt exits 0. Its
// output, and the number of attempts, go into the check's event.
type Check struct{}

// checkNS is the namespace of check identities.
const checkNS = "check"

const stCheck = "check"

// defaultInterval is the pause between attempts when a check names none.
const defaultInterval = time.Second

// Check has nothing to change; it notes when the check will run.
func (Check) Check(v *kind.View, s *stepfmt.Step, prior *kind.Record) (kind.Work, error) {
	img := kind.Image{State: stCheck}
	return kind.Work{Before: img, After: img, Target: img, Notes: []string{"runs after the apply's changes: " + s.Value("run")}}, nil
}

// CheckRestore has nothing to undo.
func (Check) CheckRestore(v *kind.View, s *stepfmt.Step, img kind.Image) (kind.Work, error) {
	return kind.Work{Before: img, After: img, Target: img}, nil
}

// Capture: a check leaves nothing on the machine.
func (Check) Capture(x *kind.Exec, s *stepfmt.Step) (kind.Image, error) {
	return kind.Image{State: stCheck}, nil
}

// Forward is never called: Check finds nothing to do.
func (Check) Forward(x *kind.Exec, s *stepfmt.Step, w kind.Work) error { return nil }

// Restore is never called: CheckRestore finds nothing to do.
func (Check) Restore(x *kind.Exec, s *stepfmt.Step, img kind.Image, w kind.Work) error {
	return nil
}

// Drift: a check has no state to drift.
func (Check) Drift(x *kind.Exec, target string, wrote kind.Image) (kind.Image, error) {
	return wrote, nil
}

// Verify runs the check until an attempt passes or the attempts run out.
func (Check) Verify(ctx context.Context, x *kind.Exec, s *stepfmt.Step) error {
	retries := 0
	if r, ok := s.Get("retries"); ok {
		n, err := strconv.Atoi(r)
		if err != nil || n < 0 {
			return fmt.Errorf("retries %q is not a count", r)
		}
		retries = n
	}
	interval := defaultInterval
	if i, ok := s.Get("interval"); ok {
		d, err := time.ParseDuration(i)
		if err != nil || d <= 0 {
			return fmt.Errorf("interval %q is not a positive duration", i)
		}
		interval = d
	}
	var err error
	var out string
	for attempt := 1; ; attempt++ {
		out, err = runShell(ctx, x, s.Value("run"), timeoutOf(s))
		if err == nil {
			x.Report(fmt.Sprintf("passed at attempt %d of %d", attempt, retries+1))
			if out != "" {
				x.Report("output: " + out)
			}
			return nil
		}
		if attempt > retries {
			if out != "" {
				x.Report("output: " + out)
			}
			return fmt.Errorf("check failed after %d attempt(s): %w", attempt, withOutput(err, out))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("check cancelled after %d attempt(s): %w", attempt, ctx.Err())
		case <-time.After(interval):
		}
	}
}
