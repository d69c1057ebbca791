package apply

import (
	"fmt"

	"trail/apply/kind"
)

// pathDo carries out the work pathWork planned for p: it turns w.Before
// into w.Target. File contents are staged and reach their name at the
// batch's flush; everything else happens at once.
func pathDo(x *kind.Exec, p string, w kind.Work) error {
	if w.None() {
		return nil
	}
	b, err := unpack(w.Before)
	if err != nil {
		return err
	}
	t, err := unpack(w.Target)
	if err != nil {
		return err
	}
	r := x.Root
	if t.absent() {
		if b.state == stDir {
			return r.Rmdir(p)
		}
		return r.Remove(p)
	}
	if b.state != t.state {
		switch b.state {
		case stDir:
			if err := r.Rmdir(p); err != nil {
				return err
			}
			b = pimg{state: kind.StateAbsent}
		case stFile, stLink:
			if t.state == stDir {
				if err := r.Remove(p); err != nil {
					return err
				}
				b = pimg{state: kind.StateAbsent}
			}
		}
	}
	switch t.state {
	case stDir:
		if b.absent() {
			if err := r.Mkdir(p); err != nil {
				return err
			}
			b = unknownAttrs(stDir)
		}
		return setAttrs(x, p, b, t)
	case stFile:
		if b.state == stFile && b.content == t.content {
			return setAttrs(x, p, b, t)
		}
		blob, err := x.Store().Open(t.content)
		if err != nil {
			return err
		}
		defer blob.Close()
		return r.Stage(p, blob, t.mode, t.uid, t.gid)
	case stLink:
		if b.state != stLink || b.to != t.to {
			if err := r.Symlink(t.to, p); err != nil {
				return err
			}
			b = unknownAttrs(stLink)
		}
		t.hasMode = false
		return setAttrs(x, p, b, t)
	}
	return fmt.Errorf("%s: cannot make a %s", p, t.state)
}

// unknownAttrs stands for a new object's attributes, which the kernel may
// have taken from a setgid parent: owner, group and mode are all set
// explicitly, so a new object does not depend on its parent's history.
func unknownAttrs(state string) pimg {
	return pimg{state: state, mode: ^uint32(0), uid: ^uint32(0), gid: ^uint32(0)}
}

// setAttrs changes owner, then mode (chown clears setuid and setgid bits,
// so the mode is set again after it when those bits are wanted).
func setAttrs(x *kind.Exec, p string, b, t pimg) error {
	chowned := false
	if b.uid != t.uid || b.gid != t.gid {
		if err := x.Root.Chown(p, t.uid, t.gid); err != nil {
			return err
		}
		chowned = true
	}
	if t.hasMode && (b.mode != t.mode || chowned && t.mode&0o6000 != 0) {
		return x.Root.Chmod(p, t.mode)
	}
	return nil
}
