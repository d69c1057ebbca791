package kind

import "slices"

// Work is what a check found: the target before, the target after, and in
// between the changes, one short phrase each ("create", "mode 0600 ->
// 0644"). No changes means nothing to do.
type Work struct {
	Before  Image
	After   Image // what the step manages once done: kept as the drift reference
	Target  Image // the whole state the work leaves, unmanaged attributes filled in
	Changes []string
	Notes   []string // what will be left alone and why
	// Quiet is set by the kind when the change from Before to Target
	// leaves the target as a program that uses it sees it (a package
	// that stays installed at its version, only marked manually or
	// automatically installed): no restart or reload trigger counts it,
	// in an apply, a reverse or an undo (kind.Restarter).
	Quiet bool
}

// None reports whether the work changes nothing.
func (w Work) None() bool { return len(w.Changes) == 0 }

// Has reports whether the work includes the change c, as its kind words
// it ("start", "mark manual").
func (w Work) Has(c string) bool { return slices.Contains(w.Changes, c) }
