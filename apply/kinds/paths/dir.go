package paths

import (
	"trail/apply/kind"
	"trail/stepfmt"
)

// Dir runs DIR steps. A directory trail creates gets mode 0755 and the
// applier's owner unless the step says otherwise; an existing one keeps
// what the step does not manage. A file or symlink in its place is saved
// and replaced. Its reverse removes a directory trail created only when it
// is empty of files trail did not write; otherwise the directory is kept
// and the apply reports it. A directory that existed before gets its mode,
// owner and group back.
type Dir struct{ pathOps }

// Check plans making the path a directory with the step's attributes.
func (Dir) Check(v *kind.View, s *stepfmt.Step, prior *kind.Record) (kind.Work, error) {
	return checkPath(v, s, prior, StDir)
}
