package packages

import "trail/apply/kind"

// A package's mark (automatically or manually installed) is the one part
// of it trail changes without touching its files. Whether a change sets
// it, and whether that is all the change does, is decided here from the
// change's images, for Check, the removals' decision, ForwardGroup and
// RestoreGroup alike; the change's phrase is only what it shows.

// newMark returns the mark a package moving from before to after ends
// with (auto or manual), and whether trail sets it with apt-mark: apt
// marks a package it installs manually installed, so a package installed
// or moved to another version is marked only when it is to be auto.
func newMark(before, after pimgPkg) (auto, marks bool) {
	if after.State != Installed {
		return false, false
	}
	now := before.auto
	if before.State != Installed || before.Version != after.Version {
		now = false
	}
	return after.auto, now != after.auto
}

// markOf is newMark of a PKG work's images (Before and Target).
func markOf(w kind.Work) (auto, marks bool) {
	before, err := Unpack(w.Before)
	if err != nil {
		return false, false
	}
	after, err := Unpack(w.Target)
	if err != nil {
		return false, false
	}
	return newMark(before, after)
}

func markPhrase(auto bool) string {
	if auto {
		return "mark auto"
	}
	return "mark manual"
}

// settle sets w.Quiet when the package stays installed at the version it
// has and the work does nothing else than, perhaps, set its mark: its
// files stay as they are, so no restart trigger counts the change,
// whether it is made, reversed or undone. A work that leaves the package
// as it is (an undo of a mark never made) is quiet too, but not one that
// leaves it other than its image with a note (an old version apt no
// longer has): the change it could not undo stays, and may not have been
// restarted for yet.
func settle(w *kind.Work) {
	before, err := Unpack(w.Before)
	if err != nil {
		return
	}
	after, err := Unpack(w.Target)
	if err != nil {
		return
	}
	_, marks := newMark(before, after)
	n := 0
	if marks {
		n = 1
	}
	w.Quiet = len(w.Notes) == 0 && before.State == Installed && after.State == Installed && before.Version == after.Version && len(w.Changes) == n
}
