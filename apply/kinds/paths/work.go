package paths

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"

	"trail/apply/kind"
	"trail/internal/fsx"
	"trail/stepfmt"
)

// ViewOf returns the image of p as the view shows it. During a plan, a
// path under one the plan creates or replaces is absent unless predicted.
func ViewOf(v *kind.View, p string) (Object, error) {
	return viewOf(v, p, func() (Object, error) { return Read(v.Exec(), p) })
}

// viewOf is ViewOf that reads the path, when it must, with read.
func viewOf(v *kind.View, p string, read func() (Object, error)) (Object, error) {
	if v.Planning() {
		if img, ok := v.Predicted(NS, p); ok {
			return Unpack(img)
		}
		if v.Replaced(fsx.Parent(p)) {
			return Object{State: kind.StateAbsent}, nil
		}
	}
	img, err := v.Lookup(NS, p, func() (kind.Image, error) {
		cur, err := read()
		return cur.Image(), err
	})
	if err != nil {
		return Object{}, err
	}
	return Unpack(img)
}

// want is what a path step asks for: the state, and only the attributes
// the step manages, with owner and group resolved to ids: during a plan,
// as the plan's earlier USER and GROUP changes will leave them.
func want(v *kind.View, s *stepfmt.Step, state string) (Object, []string, error) {
	x := v.Exec()
	w := Object{State: state}
	var notes []string
	switch state {
	case StFile:
		if s.Kind != stepfmt.KindFile {
			break
		}
		w.content = s.Value("content")
		if s.Value("secret") != "" {
			k, err := x.Secret(w.content)
			if err != nil {
				return w, nil, err
			}
			w.content, w.secret = k, true
			break
		}
		if !x.HasBlob(w.content) {
			return w, nil, fmt.Errorf("content %s is not in the store: the caller must put compiled contents there before planning", w.content)
		}
	case StLink:
		w.to = s.Value("to")
	}
	if m, ok := s.Get("mode"); ok {
		n, err := strconv.ParseUint(m, 8, 32)
		if err != nil {
			return w, nil, fmt.Errorf("mode %q is not octal", m)
		}
		w.Mode, w.HasMode = uint32(n)&0o7777, true
	}
	if o, ok := s.Get("owner"); ok {
		id, err := resolveID(v, stepfmt.Namespace(stepfmt.KindUser), "uid", o, x.UID)
		switch {
		case errors.Is(err, kind.ErrPlanned):
			notes = append(notes, "owner "+o+" is created by this apply")
		case err != nil:
			return w, nil, err
		default:
			w.uid, w.HasUID = id, true
		}
	}
	if g, ok := s.Get("group"); ok {
		id, err := resolveID(v, stepfmt.Namespace(stepfmt.KindGroup), "gid", g, x.GID)
		switch {
		case errors.Is(err, kind.ErrPlanned):
			notes = append(notes, "group "+g+" is created by this apply")
		case err != nil:
			return w, nil, err
		default:
			w.gid, w.HasGID = id, true
		}
	}
	return w, notes, nil
}

// resolveID resolves an owner or group name. During a plan, an account an
// earlier change of the plan creates, changes or gives back resolves as
// the plan predicts it: its number when the prediction names one; a name
// the plan removes is an error, as it would be for a fresh apply. Else
// the name is looked up in the root (lookup).
func resolveID(v *kind.View, ns, key, name string, lookup func(string) (uint32, error)) (uint32, error) {
	if _, numeric := kind.NumericID(name); !numeric && v.Planning() {
		if img, ok := v.Predicted(ns, name); ok {
			if img.IsAbsent() {
				what, role := "group", "group"
				if ns == stepfmt.Namespace(stepfmt.KindUser) {
					what, role = "user", "owner"
				}
				return 0, fmt.Errorf("%s %s is removed by this apply (its step is gone): keep it, or use another %s", what, name, role)
			}
			if n, err := strconv.ParseUint(img.Value(key), 10, 32); err == nil {
				return uint32(n), nil
			}
		}
	}
	return lookup(name)
}

// WorkOf plans making p match want. For a forward step want holds the
// managed attributes only; for a restore it is a whole captured image.
// prior is the record of a modified step (nil otherwise).
func WorkOf(v *kind.View, p string, w Object, restore bool, prior *kind.Record) (kind.Work, error) {
	x := v.Exec()
	before, err := ViewOf(v, p)
	if err != nil {
		return kind.Work{}, err
	}
	if before.State == stSpecial {
		return kind.Work{}, fmt.Errorf("%s is a special file (device, fifo or socket): trail only replaces files, directories and symlinks; remove it by hand", p)
	}
	if !w.Absent() {
		if err := parentReady(v, p); err != nil {
			return kind.Work{}, err
		}
	}
	if w.State == StFile && restore && w.content != "" && !w.secret && !x.HasBlob(w.content) {
		return kind.Work{}, fmt.Errorf("cannot restore %s: its saved content %s is missing from the store", p, w.content)
	}
	work := kind.Work{Before: before.Image()}
	t := fill(x, before, w)
	if prior != nil && !w.Absent() {
		if err := unmanaged(x, &t, w, prior); err != nil {
			return kind.Work{}, err
		}
	}
	switch {
	case w.Absent() && before.Absent():
	case w.Absent() && before.State == StDir:
		if held, err := unmanagedEntries(v, p); err != nil {
			return kind.Work{}, err
		} else if len(held) > 0 && recursive(w) {
			work.Changes = append(work.Changes, "remove directory and everything in it ("+strings.Join(held, ", ")+")")
			break
		} else if len(held) > 0 && !restore {
			return kind.Work{}, fmt.Errorf("%s is a directory holding %s: absent removes an empty directory only; add recursive = true to remove it with everything in it (saved first), or name what is in it absent too, before it", p, strings.Join(held, ", "))
		} else if len(held) > 0 {
			work.Notes = append(work.Notes, fmt.Sprintf("directory %s kept: it holds files trail did not write (%s)", p, strings.Join(held, ", ")))
			t = before
			break
		}
		work.Changes = append(work.Changes, "remove directory")
	case w.Absent():
		work.Changes = append(work.Changes, "remove "+noun(before.State))
	case before.Absent():
		work.Changes = append(work.Changes, creates(w.State))
	case before.State == StDir && w.State == StTree:
		work.Changes = append(work.Changes, "put back what is missing in the directory")
	case before.State != w.State:
		if before.State == StDir {
			held, err := unmanagedEntries(v, p)
			if err != nil {
				return kind.Work{}, err
			}
			if len(held) > 0 && !restore {
				return kind.Work{}, fmt.Errorf("%s is a directory holding %s: trail will not replace a non-empty directory by a %s; empty it or manage it as a DIR",
					p, strings.Join(held, ", "), noun(w.State))
			}
			if len(held) > 0 {
				work.Notes = append(work.Notes, fmt.Sprintf("%s not restored to a %s: the directory there holds files trail did not write (%s)", p, noun(w.State), strings.Join(held, ", ")))
				t = before
				break
			}
		}
		work.Changes = append(work.Changes, "replace "+noun(before.State)+" by "+noun(w.State))
	default:
		// A path a secret step names (now or in the applied list) holds a
		// secret: its content hash is not shown, whatever replaces it.
		t.masked = t.masked || x.IsSecret(p)
		work.Changes = attrChanges(before, t)
	}
	work.Target = t.Image()
	work.After = w.Image()
	if restore {
		work.After = t.Image()
	}
	v.Predict(NS, p, work.Target)
	if v.Planning() && t.State != before.State {
		v.MarkFresh(p)
	}
	return work, nil
}

// fill completes want with what it leaves alone: attributes it does not
// manage keep their present value, or get a default on a new object.
func fill(x *kind.Exec, before, w Object) Object {
	t := w
	if w.Absent() {
		return t
	}
	same := before.State == w.State
	if !t.HasMode && t.State != StLink {
		switch {
		case same:
			t.Mode = before.Mode
		case t.State == StDir:
			t.Mode = 0o755
		default:
			t.Mode = 0o644
		}
		t.HasMode = true
	}
	if !t.HasUID {
		t.uid, _ = x.Applier()
		if !before.Absent() {
			t.uid = before.uid
		}
		t.HasUID = true
	}
	if !t.HasGID {
		_, t.gid = x.Applier()
		if !before.Absent() {
			t.gid = before.gid
		}
		t.HasGID = true
	}
	return t
}

// unmanaged gives the attributes the old step managed and the new one does
// not the value a fresh apply would give them: the one filled in from the
// target's origin.
func unmanaged(x *kind.Exec, t *Object, w Object, prior *kind.Record) error {
	wrote, err := Unpack(prior.Wrote)
	if err != nil {
		return err
	}
	origin, err := Unpack(prior.Origin)
	if err != nil {
		return err
	}
	o := fill(x, origin, w)
	if wrote.HasMode && !w.HasMode && t.State != StLink {
		t.Mode = o.Mode
	}
	if wrote.HasUID && !w.HasUID {
		t.uid = o.uid
	}
	if wrote.HasGID && !w.HasGID {
		t.gid = o.gid
	}
	return nil
}

// attrChanges lists what differs between two images of the same state.
func attrChanges(b, t Object) []string {
	var out []string
	switch {
	case b.content == t.content || t.content == "":
	case t.secret || b.secret || t.masked:
		out = append(out, "secret changed")
	default:
		out = append(out, "content "+short(b.content)+" -> "+short(t.content))
	}
	if b.to != t.to {
		out = append(out, "target "+stepfmt.QuoteValue(b.to)+" -> "+stepfmt.QuoteValue(t.to))
	}
	if t.HasMode && b.Mode != t.Mode {
		out = append(out, fmt.Sprintf("mode %04o -> %04o", b.Mode, t.Mode))
	}
	if t.HasUID && b.uid != t.uid {
		out = append(out, fmt.Sprintf("owner %d -> %d", b.uid, t.uid))
	}
	if t.HasGID && b.gid != t.gid {
		out = append(out, fmt.Sprintf("group %d -> %d", b.gid, t.gid))
	}
	return out
}

// short abbreviates a blob key for messages.
func short(key string) string {
	if len(key) > len("sha256:")+12 {
		return key[:len("sha256:")+12]
	}
	return key
}

// creates is "create "+noun(state), a constant for the states a step
// creates: every path of a first apply is created.
func creates(state string) string {
	switch state {
	case StFile:
		return "create file"
	case StDir:
		return "create directory"
	case StLink:
		return "create symlink"
	}
	return "create " + noun(state)
}

func noun(state string) string {
	switch state {
	case StFile:
		return "file"
	case StDir:
		return "directory"
	case StLink:
		return "symlink"
	case StTree:
		return "directory tree"
	}
	return state
}

// parentReady checks that p's parent is, or will be, a real directory.
func parentReady(v *kind.View, p string) error {
	parent := fsx.Parent(p)
	if parent == "/" {
		return nil
	}
	if !v.Planning() {
		// Opening it with O_DIRECTORY|O_NOFOLLOW proves it a directory
		// (and is cached for the operation).
		_, err := v.Exec().Root.DirFD(parent)
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("parent directory %s does not exist: add a DIR step for it before this step", parent)
		}
		return err
	}
	// Most parents are directories the plan makes: their state is all
	// this needs of their prediction.
	state, ok := v.PredictedState(NS, parent)
	if !ok {
		pi, err := ViewOf(v, parent)
		if err != nil {
			return err
		}
		state = pi.State
	}
	switch state {
	case StDir, StTree:
		return nil
	case StLink:
		return fmt.Errorf("parent %s %w", parent, fsx.ErrSymlink)
	case kind.StateAbsent, "":
		if v.UnderOwned(parent) {
			// The package brings it; the apply checks again, on the
			// machine, right before the step.
			v.Predict(NS, parent, Object{State: StDir, Mode: 0o755, HasMode: true, HasUID: true, HasGID: true}.Image())
			return nil
		}
		return fmt.Errorf("parent directory %s does not exist: add a DIR step for it before this step, or name it in the owns of the package that ships it", parent)
	}
	return fmt.Errorf("parent %s is a %s, not a directory", parent, noun(state))
}

// unmanagedEntries lists (up to three of) the names in directory p that
// the plan does not remove first. A directory the plan itself puts in
// place (a removed FILE or LINK step giving back the empty directory that
// was there before trail) holds only what the plan predicts in it: the
// machine has another object there now, which must not be read.
func unmanagedEntries(v *kind.View, p string) ([]string, error) {
	var names []string
	if v.Planning() && v.Replaced(p) {
		names = v.PredictedChildren(p)
	} else {
		var err error
		if names, err = v.Exec().Root.ReadDirNames(p); err != nil {
			return nil, err
		}
	}
	slices.Sort(names)
	var held []string
	for _, n := range names {
		if img, ok := v.Predicted(NS, p+"/"+n); ok && img.IsAbsent() {
			continue
		}
		if len(held) == 3 {
			held = append(held, "...")
			break
		}
		held = append(held, n)
	}
	return held, nil
}
