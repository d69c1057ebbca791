package paths

import (
	"bytes"
	"fmt"
	"io"

	"trail/apply/kind"
	"trail/internal/fsx"
	"trail/internal/lineedit"
	"trail/stepfmt"
)

// Edit runs EDIT steps: line edits (internal/lineedit) of a file that is
// there already, one a package ships. The step names its edit script by
// its key in the store; the file's mode, owner and group stay as found.
//
// The edits always apply to the same base, so that the result depends on
// the script alone (path independence): the file as trail found it
// before its first edit (the origin, which the reverse restores byte for
// byte). When the file changed since trail last wrote it (a package
// upgrade replaced it, or a hand edit), which the drift check reports,
// the next change applies the edits to the file as found, the plan says
// so, and that file becomes the origin (kind.Rebaser): later changes
// start from it, and the reverse gives it back, so an upgrade's file is
// never rolled back to the version before it. Several edits of one
// file are one step, in order, so that removing one of them gives the
// file every other edit on its pristine base. The result is written under
// a temporary name and renamed, as FILE content is, after the step's
// validate command (validate.go) accepted it; it goes into the store too,
// as what trail wrote.
type Edit struct{ pathOps }

// Check plans the edits: their result against the file as it is.
func (Edit) Check(v *kind.View, s *stepfmt.Step, prior *kind.Record) (kind.Work, error) {
	x := v.Exec()
	edits, err := editScript(x, s.Value("edits"))
	if err != nil {
		return kind.Work{}, err
	}
	var now []byte // the file's content, when the view read it
	cur, err := viewOf(v, s.Target, func() (Object, error) {
		o, data, err := readWhole(x, s.Target)
		now = data
		return o, err
	})
	if err != nil {
		return kind.Work{}, err
	}
	if err := present(v, s.Target, cur, "EDIT changes lines of a file that is there (one a package ships)",
		"or manage the whole file with a file block"); err != nil || cur.Absent() {
		return packageBrings(s.Target, "edit it"), err
	}
	if now == nil {
		if now, err = contentOf(x, s.Target, cur.content); err != nil {
			return kind.Work{}, err
		}
	}
	if cur.content == "" {
		// Predicted without its content (an ATTRS put back before this
		// step): the content is what is on the machine.
		cur.content = kind.HashKey(now)
	}
	base, notes, err := editBase(x, cur, now, prior)
	if err != nil {
		return kind.Work{}, err
	}
	result, changes, err := lineedit.Apply(base, edits)
	if err != nil {
		return kind.Work{}, err
	}
	t := cur
	t.content = x.Derive(result)
	// At a path a secret names, the result is recorded by its hash as a
	// secret's content is, and not stored (Forward).
	after := Object{State: StFile, content: t.content, secret: x.IsSecret(s.Target)}
	w := kind.Work{Before: cur.Image(), Target: t.Image(), After: after.Image(), Notes: notes}
	if t.content != cur.content {
		if !bytes.Equal(base, now) {
			changes = append([]string{"content " + short(cur.content) + " -> " + short(t.content) + " (the edits on the file as it was before trail)"}, changes...)
		}
		if len(changes) == 0 {
			changes = []string{"content " + short(cur.content) + " -> " + short(t.content)}
		}
		if x.IsSecret(s.Target) {
			// A secret step names the path (FILE with secret= before
			// this EDIT): neither its lines nor their hash are shown.
			changes = []string{"secret changed"}
		}
		w.Changes = changes
		if cmd, ok := s.Get("validate"); ok {
			note, err := validate(v, s.Target, cmd, t.content, result, t.Mode)
			if err != nil {
				return kind.Work{}, err
			}
			if note != "" {
				w.Notes = append(w.Notes, note)
			}
		}
	}
	v.Predict(NS, s.Target, w.Target)
	return w, nil
}

// Forward writes the result Check computed, and stores it as what trail
// wrote.
func (Edit) Forward(x *kind.Exec, s *stepfmt.Step, w kind.Work) error {
	t, err := Unpack(w.Target)
	if err != nil {
		return err
	}
	data, ok := x.Derived(t.content)
	if !ok {
		return fmt.Errorf("internal error: the edits' result %s was not computed by the check", short(t.content))
	}
	if !x.IsSecret(s.Target) {
		if _, err := x.Stage(bytes.NewReader(data)); err != nil {
			return err
		}
	}
	return x.Root.Stage(s.Target, bytes.NewReader(data), t.Mode, t.uid, t.gid)
}

// Rebase takes the file as found for the origin when it is not what trail
// wrote: a package upgrade's file is what the edits apply to from then on,
// and what the reverse gives back. A sealed pre-image (at a path a secret
// names) is compared by its plaintext.
func (Edit) Rebase(x *kind.Exec, rec *kind.Record, pre kind.Image) bool {
	wrote, err := Unpack(rec.Wrote)
	if err != nil {
		return false
	}
	p, err := Unpack(pre)
	if err != nil || p.State != StFile {
		return false
	}
	if p.sealed && openSealed(x, &p) != nil {
		return false
	}
	return p.content != wrote.content
}

// editScript reads and parses an edit script from the store.
func editScript(x *kind.Exec, key string) ([]lineedit.Edit, error) {
	if !x.HasBlob(key) {
		return nil, fmt.Errorf("edit script %s is not in the store: the caller must put compiled contents there before planning", key)
	}
	data, err := x.Store().Get(key)
	if err != nil {
		return nil, err
	}
	edits, err := lineedit.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("edit script %s: %w", short(key), err)
	}
	return edits, nil
}

// editBase returns what the edits apply to: the pre-image's content while
// the file is as trail last wrote it, else the file as it is now.
func editBase(x *kind.Exec, cur Object, now []byte, prior *kind.Record) ([]byte, []string, error) {
	if prior == nil {
		return now, nil, nil
	}
	wrote, err := Unpack(prior.Wrote)
	if err != nil {
		return nil, nil, err
	}
	origin, err := Unpack(prior.Origin)
	if err != nil {
		return nil, nil, err
	}
	if cur.content != wrote.content || origin.State != StFile || origin.content == "" {
		return now, []string{"the file changed since trail edited it (a package upgrade, or by hand): the edits apply to it as found"}, nil
	}
	if origin.sealed {
		// Found at a path a secret step named when trail first edited
		// it: the base is the plaintext, decrypted in memory.
		if err := openSealed(x, &origin); err != nil {
			return nil, nil, fmt.Errorf("the file as it was before trail edited it: %w", err)
		}
	}
	r, err := x.OpenContent(origin.content)
	if err != nil {
		return nil, nil, fmt.Errorf("the file as it was before trail edited it: %w", err)
	}
	defer r.Close()
	base, err := io.ReadAll(r)
	if err != nil {
		return nil, nil, fmt.Errorf("the file as it was before trail edited it: %w", err)
	}
	return base, nil, nil
}

// contentOf returns the content of the file p whose key is key: from the
// store, or decrypted in memory, when it is there (a plan's prediction,
// such as a sealed pre-image a secret step's reverse puts back), else
// read from the root (and checked against key, unless the prediction had
// none).
func contentOf(x *kind.Exec, p, key string) ([]byte, error) {
	if key != "" && (x.SecretContent(key) || x.HasBlob(key)) {
		r, err := x.OpenContent(key)
		if err != nil {
			return nil, err
		}
		defer r.Close()
		return io.ReadAll(r)
	}
	st, err := x.Root.Lstat(p)
	if err != nil {
		return nil, err
	}
	data, got, err := x.ReadFile(p, st)
	if err != nil {
		return nil, err
	}
	if key != "" && got != key {
		return nil, fmt.Errorf("%s changed while it was read: try again", p)
	}
	return data, nil
}

// readWhole is Read that, for a regular file, reads its content whole
// and returns it with the image, which names it by its hash.
func readWhole(x *kind.Exec, p string) (Object, []byte, error) {
	st, err := x.Root.Lstat(p)
	if err != nil || st.Type != fsx.Regular {
		o, err := Read(x, p)
		return o, nil, err
	}
	data, key, err := x.ReadFile(p, st)
	if err != nil {
		return Object{}, nil, err
	}
	return Object{State: StFile, content: key, Mode: st.Mode, uid: st.UID, gid: st.GID, HasMode: true, HasUID: true, HasGID: true}, data, nil
}
