package paths

import (
	"fmt"

	"trail/apply/kind"
	"trail/internal/fsx"
)

// Do carries out the work WorkOf planned for p: it turns w.Before
// into w.Target. The content of a file is staged and reaches its name at
// the batch's flush, but for a file where nothing was in a directory the
// same operation made, which is written at its name and made durable at
// the flush; everything else happens at once. The caller has journaled
// the change's undo image.
func Do(x *kind.Exec, p string, w kind.Work) error {
	if w.None() {
		return nil
	}
	b, err := Unpack(w.Before)
	if err != nil {
		return err
	}
	t, err := Unpack(w.Target)
	if err != nil {
		return err
	}
	r := x.Root
	if t.Absent() {
		if b.State == StDir {
			return r.Rmdir(p)
		}
		return r.Remove(p)
	}
	if b.State != t.State && !(b.State == StDir && t.State == StTree) {
		switch b.State {
		case StDir:
			if err := r.Rmdir(p); err != nil {
				return err
			}
			b = Object{State: kind.StateAbsent}
		case StFile, StLink:
			if t.State == StDir || t.State == StTree {
				if err := r.Remove(p); err != nil {
					return err
				}
				b = Object{State: kind.StateAbsent}
			}
		}
	}
	switch t.State {
	case StDir:
		if b.Absent() {
			if err := r.Mkdir(p); err != nil {
				return err
			}
			b = unknownAttrs(StDir)
		}
		return setAttrs(x, p, b, t)
	case StTree:
		if b.Absent() {
			if err := r.Mkdir(p); err != nil {
				return err
			}
			b = unknownAttrs(StDir)
		}
		if err := restoreTree(x, p, t); err != nil {
			return err
		}
		return setAttrs(x, p, b, t)
	case StFile:
		if b.State == StFile && (b.content == t.content || t.content == "") {
			return setAttrs(x, p, b, t)
		}
		if t.content == "" {
			return fmt.Errorf("%s is not a file: its attributes cannot be set", p)
		}
		blob, err := x.OpenContent(t.content)
		if err != nil {
			return err
		}
		defer blob.Close()
		if b.Absent() && r.Made(fsx.Parent(p)) {
			// Nothing to keep whole, in a directory this operation
			// made, which no reader was looking at (fsx.Root.Made):
			// the file is made at its name. The change's journaled
			// undo image, durable before this, removes what a crash
			// leaves of it.
			return r.Create(p, blob, t.Mode, t.uid, t.gid)
		}
		return r.Stage(p, blob, t.Mode, t.uid, t.gid)
	case StLink:
		if b.State != StLink || b.to != t.to {
			if err := r.Symlink(t.to, p); err != nil {
				return err
			}
			b = unknownAttrs(StLink)
		}
		t.HasMode = false
		return setAttrs(x, p, b, t)
	}
	return fmt.Errorf("%s: cannot make a %s", p, t.State)
}

// unknownAttrs stands for a new object's attributes, which the kernel may
// have taken from a setgid parent: owner, group and mode are all set
// explicitly, so a new object does not depend on its parent's history.
func unknownAttrs(state string) Object {
	return Object{State: state, Mode: ^uint32(0), uid: ^uint32(0), gid: ^uint32(0)}
}

// setAttrs changes owner, then mode (chown clears setuid and setgid bits,
// so the mode is set again after it when those bits are wanted).
func setAttrs(x *kind.Exec, p string, b, t Object) error {
	chowned := false
	if b.uid != t.uid || b.gid != t.gid {
		if err := x.Root.Chown(p, t.uid, t.gid); err != nil {
			return err
		}
		chowned = true
	}
	if t.HasMode && (b.Mode != t.Mode || chowned && t.Mode&0o6000 != 0) {
		return x.Root.Chmod(p, t.Mode)
	}
	return nil
}
