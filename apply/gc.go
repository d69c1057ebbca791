package apply

import (
	"trail/apply/state"
)

// GCResult is what a gc removed (see state.GC).
type GCResult = state.GCResult

// GC prunes the state directory under the state lock, after finishing an
// interrupted apply: it keeps the applied generation, the newest keep
// generations with the contents their step lists name, every pre-image
// and written content the applied record names, and blobs younger than
// state.GCGrace (a compile may be about to apply them); it removes the
// rest. With dryRun it only counts.
func (e *Engine) GC(keep int, dryRun bool) (*GCResult, error) {
	lk, err := e.hold()
	if err != nil {
		return nil, err
	}
	defer lk.Release()
	res, err := state.GC(e.dir, keep, e.opts.gcGrace(), dryRun)
	e.store.RefreshPacks() // let go of the packs it removed
	return res, err
}

// pruneAfterApply adds what an apply that changed something stored (its
// blobs, step list and record) to the state's running size (the no-op
// path never comes here, and no walk of the store is needed: the first
// time, or after trail gc, the state is measured whole) and prunes it with
// the default keep when state.NeedsGC says it grew enough. It is best
// effort: the apply has committed, and whatever stops the measure or the
// gc leaves the state as it is, for trail gc to report.
func (e *Engine) pruneAfterApply(steps int) {
	size, afterGC, err := state.AddStateBytes(e.dir, e.store.TakeAdded()+int64(steps)+genRecordBytes)
	if err != nil || !state.NeedsGC(size, afterGC, e.opts.autoGCMin()) {
		return
	}
	state.AutoGC(e.dir, state.DefaultKeep, e.opts.gcGrace(), size)
	// An engine kept for long (trail watch's) would otherwise hold the
	// packs the gc removed, and their disk space, open.
	e.store.RefreshPacks()
}

// genRecordBytes is about what a generation's record takes.
const genRecordBytes = 512

func (o Options) autoGCMin() int64 {
	if o.autoGCLeast > 0 {
		return o.autoGCLeast
	}
	return state.AutoGCMin
}

// StateBytes returns the state's size as the last apply or gc measured
// it, and false when none did yet.
func (e *Engine) StateBytes() (int64, bool) {
	n, _, ok := state.ReadStateBytes(e.dir)
	return n, ok
}
