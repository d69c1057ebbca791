package host

import (
	"fmt"
	"io/fs"

	"trail/apply"
	"trail/stepfmt"
)

// StageError is a failure to put a commit's compiled contents into the
// store (a full state disk), placed on the first step whose content is
// not there.
type StageError struct {
	Step, Source string
	Err          error
}

func (e *StageError) Error() string {
	if e.Step == "" {
		return "store: " + e.Err.Error()
	}
	return fmt.Sprintf("%s: %s: storing its content of %v", e.Source, e.Step, e.Err)
}

func (e *StageError) Unwrap() error { return e.Err }

// stageError places err on the step with the largest content the store
// lacks (the first such in list order): the store writes a commit's
// contents all or none, and on a full disk the largest is the one to see.
func stageError(c *Compiled, st *apply.Store, err error) error {
	var best *stepfmt.Step
	size := -1
	for _, s := range c.List.Steps {
		k := s.Value("content")
		if n := c.blobSize(k); n > size && !st.Has(k) {
			best, size = s, n
		}
	}
	if best == nil {
		return &StageError{Err: err}
	}
	return &StageError{Step: best.ID().String(), Source: best.Src.String(), Err: fmt.Errorf("%d bytes: %w", size, err)}
}

// blobSize is the size of content k, -1 when the compile has none.
func (c *Compiled) blobSize(k string) int {
	if data, ok := c.Blobs[k]; ok {
		return len(data)
	}
	if p, ok := c.Refs.Path(k); ok && c.tree != nil {
		if info, err := fs.Stat(c.tree, p); err == nil {
			return int(info.Size())
		}
	}
	return -1
}
