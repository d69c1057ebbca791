package paths

import (
	"trail/apply/kind"
	"trail/stepfmt"
)

// Link runs LINK steps. The symlink is made under a temporary name and
// renamed over the target, so a file or symlink in its place is replaced
// atomically (and saved first); an empty directory is saved and replaced,
// one holding files is refused. Owner and group apply to the link itself.
type Link struct{ pathOps }

// Check plans making the path a symlink to the step's target.
func (Link) Check(v *kind.View, s *stepfmt.Step, prior *kind.Record) (kind.Work, error) {
	return checkPath(v, s, prior, StLink)
}
