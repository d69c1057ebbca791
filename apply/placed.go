package apply

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"golang.org/x/sys/unix"

	"trail/stepfmt"
)

// stepError is a failure of one step.
type stepError struct {
	step *stepfmt.Step
	err  error
}

func (s *stepError) Error() string {
	var b strings.Builder
	if !s.step.Src.IsZero() {
		b.WriteString(s.step.Src.String())
		b.WriteString(": ")
	}
	b.WriteString(s.step.ID().String())
	b.WriteString(": ")
	b.WriteString(s.err.Error())
	return b.String()
}

func (s *stepError) Unwrap() error { return s.err }

// placeBatch gives an error of a whole batch (writing the store or the
// journal, making the changes durable) the place of a step, so that it is
// reported with a source as every step's failure is: the step whose target
// the error names (a rename into place), the first in the batch's order
// of those a joined error names (the background writer's lanes), else
// the batch's first step.
func placeBatch(changes []stepfmt.Change, err error) error {
	var se *stepError
	if len(changes) == 0 || errors.As(err, &se) {
		return err
	}
	failed := map[string]*fs.PathError{}
	failedPaths(err, failed)
	if len(failed) > 0 {
		for _, c := range changes {
			pe := failed[c.Step.Target]
			if pe == nil {
				continue
			}
			what := pe.Op
			if what == "rename" {
				what = "putting it in place"
			}
			inner := fmt.Errorf("%s: %w", what, pe.Err)
			if errors.Is(pe.Err, unix.EPERM) {
				inner = fmt.Errorf("%w (an immutable file or directory? lsattr shows it, chattr -i clears it)", inner)
			}
			return &stepError{c.Step, inner}
		}
	}
	return &stepError{changes[0].Step, err}
}
