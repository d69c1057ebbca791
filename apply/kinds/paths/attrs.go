package paths

import (
	"errors"
	"fmt"
	"io/fs"

	"trail/apply/kind"
	"trail/internal/fsx"
	"trail/stepfmt"
)

// Attrs runs ATTRS steps: the mode, owner and group of a file that is
// there already (one a package ships), never its content. Its image is
// the file's attributes alone (`file mode=0640 uid=0 gid=42`), so the
// reverse gives back the attributes the file had before trail, whatever
// content a package upgrade put in it since. A file that is not there is
// an error: a plan lets it pass when a package the same apply installs
// owns a directory above it, and the apply checks it again right before
// the step. A file gone by the time of the reverse has nothing to restore.
type Attrs struct{ pathOps }

// Check plans setting the step's attributes on the file.
func (Attrs) Check(v *kind.View, s *stepfmt.Step, prior *kind.Record) (kind.Work, error) {
	cur, err := ViewOf(v, s.Target)
	if err != nil {
		return kind.Work{}, err
	}
	if err := present(v, s.Target, cur, "ATTRS sets the mode, owner and group of a file that is there (one a package ships)",
		"or give the file block content, source or template to create it"); err != nil || cur.Absent() {
		return packageBrings(s.Target, "set its attributes"), err
	}
	w, notes, err := want(v, s, StFile)
	if err != nil {
		return kind.Work{}, err
	}
	work, err := WorkOf(v, s.Target, w, false, prior)
	work.Notes = append(work.Notes, notes...)
	return work, err
}

// CheckRestore plans giving the file back the attributes it had; a file
// that is gone, or was not there, has none to get back.
func (Attrs) CheckRestore(v *kind.View, s *stepfmt.Step, img kind.Image) (kind.Work, error) {
	w, err := Unpack(img)
	if err != nil {
		return kind.Work{}, err
	}
	cur, err := ViewOf(v, s.Target)
	if err != nil {
		return kind.Work{}, err
	}
	if w.Absent() || cur.State != StFile {
		return kind.Work{Before: cur.Image(), Target: cur.Image(), After: cur.Image()}, nil
	}
	return WorkOf(v, s.Target, w, true, nil)
}

// Capture reads the file's attributes, not its content.
func (Attrs) Capture(x *kind.Exec, s *stepfmt.Step) (kind.Image, error) {
	o, err := attrsOf(x, s.Target)
	return o.Image(), err
}

// Drift reads the attributes the step manages.
func (Attrs) Drift(x *kind.Exec, target string, wrote kind.Image) (kind.Image, error) {
	w, err := Unpack(wrote)
	if err != nil {
		return kind.Image{}, err
	}
	cur, err := attrsOf(x, target)
	if err != nil {
		return kind.Image{}, err
	}
	return cur.shape(w).Image(), nil
}

// attrsOf reads the type, mode, owner and group of p, without its content.
func attrsOf(x *kind.Exec, p string) (Object, error) {
	st, err := x.Root.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fsx.ErrNotDir) || errors.Is(err, fsx.ErrSymlink) {
		return Object{State: kind.StateAbsent}, nil
	}
	if err != nil {
		return Object{}, err
	}
	if st.Type != fsx.Regular {
		return Object{}, fmt.Errorf("%s is not a regular file", p)
	}
	return Object{State: StFile, Mode: st.Mode, uid: st.UID, gid: st.GID, HasMode: true, HasUID: true, HasGID: true}, nil
}

// present checks that the file a step changes part of is there. A plan
// lets a missing one pass when a package the plan installs owns a
// directory above it (what, why: the kind's purpose and the way out).
func present(v *kind.View, p string, cur Object, what, orElse string) error {
	switch {
	case cur.Absent() && v.Planning() && v.UnderOwned(p):
		return nil
	case cur.Absent():
		return fmt.Errorf("%s does not exist: %s; name the directory of the package that ships it in the package's owns, so that it comes first, %s", p, what, orElse)
	case cur.State != StFile:
		return fmt.Errorf("%s is a %s, not a regular file: %s", p, noun(cur.State), what)
	}
	return nil
}

// packageBrings is the planned work on a file a package of the plan brings:
// the apply checks it for real right before the step.
func packageBrings(p, do string) kind.Work {
	return kind.Work{Before: kind.Absent(), Target: kind.Absent(), After: kind.Absent(),
		Changes: []string{do + " (the file comes with a package of this apply)"}}
}
