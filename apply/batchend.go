package apply

import (
	"trail/apply/kind"
	"trail/stepfmt"
)

// batchEnd returns where the batch starting at i ends: the changes of an
// undo family (familyEnd), in which those of a grouped kind run as
// groups; a group (groupEnd); path changes together, up to the batch
// size, as long as no target repeats (a kind change removes and adds the
// same path: the add must see the removal); any other kind runs alone.
func (r *run) batchEnd(i int) int {
	if j := r.familyEnd(i); j > i {
		return j // the groups in it run as groups (batch)
	}
	if j := r.groupEnd(i); j > i {
		return j
	}
	changes := r.plan.Changes
	seen := make(map[string]bool)
	j := i
	for j < len(changes) && j-i < r.e.opts.batchSize {
		s := changes[j].Step
		row := handlerOf(s.Kind)
		if !row.path {
			if j == i {
				j++
			}
			break
		}
		ns, key := stepfmt.Namespace(s.Kind), s.Target
		if seen[ns+"\x00"+key] {
			break
		}
		seen[ns+"\x00"+key] = true
		j++
	}
	return j
}

// familyEnd returns where the batch of added and modified changes of one
// undo family (kind.SharedUndoImager) starting at i ends, or i when the
// change at i does not start one. No two changes of a batch share a
// target name, whatever their kinds (useradd -U makes the group of the
// user's name), so each sees the one before it done.
func (r *run) familyEnd(i int) int {
	changes := r.plan.Changes
	family := func(c stepfmt.Change) string {
		if c.Op == stepfmt.OpRemove {
			return ""
		}
		if f, ok := handlerOf(c.Step.Kind).h.(kind.SharedUndoImager); ok {
			return f.UndoFamily()
		}
		return ""
	}
	f := family(changes[i])
	if f == "" {
		return i
	}
	seen := make(map[string]bool)
	j := i
	for j < len(changes) && j-i < r.e.opts.batchSize && family(changes[j]) == f && !seen[changes[j].Step.Target] {
		seen[changes[j].Step.Target] = true
		j++
	}
	return j
}
