package paths

import (
	"trail/apply/kind"
	"trail/stepfmt"
)

// File runs FILE steps. The content comes from the store by its key; it
// is written under a temporary name, made durable, and renamed over the
// target, so the path holds the old or the new content at any moment.
// Where nothing was, in a directory the same apply made, it is written
// at the target itself: no reader watched a directory that did not exist,
// and a crash before the batch is durable leaves a partial file there,
// which recovery removes, as the change's journaled undo image (absent)
// says. A new file gets mode 0644 and the applier's owner unless the step
// says otherwise; a file that existed keeps what the step does not
// manage. A symlink or an empty directory in its place is saved and
// replaced; a directory holding files is refused. A file whose content already matches
// is not rewritten: only differing attributes are changed. With validate,
// new content is first checked by a command (validate.go); its refusal
// is the step's error.
type File struct{ pathOps }

// Check plans making the path a file with the step's content and attributes.
func (File) Check(v *kind.View, s *stepfmt.Step, prior *kind.Record) (kind.Work, error) {
	w, err := checkPath(v, s, prior, StFile)
	cmd, ok := s.Get("validate")
	if err != nil || !ok || w.None() {
		return w, err
	}
	b, err := Unpack(w.Before)
	if err != nil {
		return kind.Work{}, err
	}
	t, err := Unpack(w.Target)
	if err != nil || t.State != StFile || b.State == StFile && b.content == t.content {
		return w, err
	}
	note, err := validate(v, s.Target, cmd, t.content, nil, t.Mode)
	if note != "" {
		w.Notes = append(w.Notes, note)
	}
	return w, err
}
