package paths

import (
	"fmt"

	"trail/apply/kind"
	"trail/internal/fsx"
	"trail/stepfmt"
)

// pathOps is what DIR, FILE and LINK share: a path's image is its type,
// content or symlink target, mode, owner and group, and restoring an image
// is the same work whichever kind made the change.
type pathOps struct{}

// NS is the namespace of path identities.
const NS = "path"

// CheckRestore plans bringing the path back to a captured image.
func (pathOps) CheckRestore(v *kind.View, s *stepfmt.Step, img kind.Image) (kind.Work, error) {
	w, err := Unpack(img)
	if err != nil {
		return kind.Work{}, err
	}
	// Putting back what was under a secret shows no content hash either.
	w.masked = s.Value("secret") != ""
	if w.sealed {
		if err := openSealed(v.Exec(), &w); err != nil {
			return kind.Work{}, fmt.Errorf("cannot restore %s: %w", s.Target, err)
		}
	}
	return WorkOf(v, s.Target, w, true, nil)
}

// Capture reads the path whole, putting a file's content into the store;
// for a recursive absent DIR, a directory with everything in it (tree.go).
func (pathOps) Capture(x *kind.Exec, s *stepfmt.Step) (kind.Image, error) {
	if s.Absent() && s.Value("recursive") == "true" {
		st, err := x.Root.Lstat(s.Target)
		if err == nil && st.Type == fsx.Dir {
			names, err := x.Root.ReadDirNames(s.Target)
			if err != nil {
				return kind.Image{}, err
			}
			if len(names) > 0 {
				return captureTree(x, s.Target, st)
			}
		}
	}
	return Capture(x, s.Target)
}

// Forward carries out the work Check planned.
func (pathOps) Forward(x *kind.Exec, s *stepfmt.Step, w kind.Work) error {
	if s.Absent() && s.Value("recursive") == "true" && !w.None() {
		return removeTree(x, s.Target)
	}
	return Do(x, s.Target, w)
}

// Restore carries out the work CheckRestore planned.
func (pathOps) Restore(x *kind.Exec, s *stepfmt.Step, img kind.Image, w kind.Work) error {
	return Do(x, s.Target, w)
}

// Drift reads the path in the shape of what trail wrote.
func (pathOps) Drift(x *kind.Exec, target string, wrote kind.Image) (kind.Image, error) {
	return pathDrift(x, target, wrote)
}

// checkPath is the Check of a path kind whose steps ask for state.
func checkPath(v *kind.View, s *stepfmt.Step, prior *kind.Record, state string) (kind.Work, error) {
	if s.Absent() {
		return WorkOf(v, s.Target, Object{State: kind.StateAbsent, tree: s.Value("recursive") == "true"}, false, prior)
	}
	w, notes, err := want(v, s, state)
	if err != nil {
		return kind.Work{}, err
	}
	work, err := WorkOf(v, s.Target, w, false, prior)
	work.Notes = append(work.Notes, notes...)
	return work, err
}

// OpenSealed is openSealed for the kinds that restore a path image of
// their own (the account files of an accounts undo image); it does
// nothing to an image that is not sealed.
func OpenSealed(x *kind.Exec, w *Object) error {
	if !w.sealed {
		return nil
	}
	return openSealed(x, w)
}

// openSealed decrypts a sealed pre-image's content into memory: w then
// stands for the plaintext, by its hash, as a secret step's content does.
func openSealed(x *kind.Exec, w *Object) error {
	if !x.HasBlob(w.content) {
		return fmt.Errorf("its saved content %s is missing from the store", w.content)
	}
	k, err := x.Secret(w.content)
	if err != nil {
		return err
	}
	w.content, w.sealed, w.secret = k, false, true
	return nil
}
