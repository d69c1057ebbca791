package accounts

import "trail/apply/kind"

// nativeRun makes a group's changes natively where it can: it opens the
// files when first needed, and writes them before any change left to the
// tools (which must see what came before it).
type nativeRun struct {
	x           *kind.Exec
	tool        nativeTool
	n           *native
	unavailable bool
}

// try runs f on the open files; false when the change is left to the
// tools (then f changed nothing).
func (r *nativeRun) try(f func(n *native) (bool, error)) (bool, error) {
	if r.unavailable {
		return false, nil
	}
	if r.n == nil {
		n, err := openNative(r.x, r.tool)
		if err != nil {
			return false, err
		}
		if n == nil {
			r.unavailable = true
			return false, nil
		}
		r.n = n
	}
	ok, err := f(r.n)
	if err != nil {
		r.n.abort()
		r.n = nil
	}
	return ok, err
}

// commit writes what the run changed, if anything.
func (r *nativeRun) commit() error {
	if r.n == nil {
		return nil
	}
	err := r.n.commit()
	r.n = nil
	return err
}
