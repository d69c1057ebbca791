package apply

import (
	"os"
	"syscall"

	"trail/apply/kind"
	"trail/apply/state"
)

// fileKey identifies a version of a state file: when none of these
// changed, neither did the file (it is only ever replaced by a rename).
type fileKey struct {
	ino, size    uint64
	mtime, ctime int64
}

func keyOf(file string) (fileKey, bool) {
	fi, err := os.Stat(file)
	if err != nil {
		return fileKey{}, false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileKey{}, false
	}
	return fileKey{st.Ino, uint64(st.Size), st.Mtim.Nano(), st.Ctim.Nano()}, true
}

// cache keeps what an engine parsed of the state directory for as long as
// the files are unchanged, so that a long-running caller (a watcher
// checking drift) does not parse the applied record and the index again
// on every call.
type cache struct {
	appliedKey fileKey
	applied    *state.Applied
	// records holds every record of recordsOf parsed, for a process that
	// checks drift again and again (eachRecord's keep).
	records   []*kind.Record
	recordsOf *state.Applied
	indexKey  fileKey
	index     *state.Index
	// linesChecked is the applied record's file whose every line
	// eachRecordLine read and checked.
	linesChecked fileKey
}

// loadApplied returns the applied record, parsed again only if the file
// changed since it was last read.
func (e *Engine) loadApplied() (*state.Applied, error) {
	file := e.path(state.FileApplied)
	k, ok := keyOf(file)
	if ok && e.cache.applied != nil && k == e.cache.appliedKey {
		return e.cache.applied, nil
	}
	ap, err := state.LoadApplied(file)
	if err != nil {
		return nil, err
	}
	e.cache.applied.Close()
	e.cache.applied, e.cache.appliedKey = ap, k
	e.cache.records, e.cache.recordsOf = nil, nil
	if !ok {
		e.cache.applied = nil
	}
	return ap, nil
}

// wroteApplied notes the applied record the engine wrote itself, read on
// demand from the new file (nil when it could not open it again).
func (e *Engine) wroteApplied(ap *state.Applied) {
	e.cache.applied.Close()
	e.cache.applied = nil
	e.cache.records, e.cache.recordsOf = nil, nil
	if k, ok := keyOf(e.path(state.FileApplied)); ok && ap != nil {
		e.cache.applied, e.cache.appliedKey = ap, k
	} else {
		ap.Close()
	}
}

// eachRecord calls fn with every record of the applied record, in order.
// A record the engine holds current (an apply or a plan read it) is read
// through its index; otherwise the file is read line by line and not
// kept, unless keep is set: a process that looks again and again (trail
// watch's drift checks) keeps every record parsed.
func (e *Engine) eachRecord(keep bool, fn func(*kind.Record) error) error {
	k, ok := keyOf(e.path(state.FileApplied))
	if keep || ok && e.cache.applied != nil && k == e.cache.appliedKey {
		ap, err := e.loadApplied()
		if err != nil {
			return err
		}
		if !keep && e.cache.recordsOf != ap {
			return ap.Each(fn)
		}
		if e.cache.recordsOf != ap {
			rs := make([]*kind.Record, 0, ap.Len())
			if err := ap.Each(func(r *kind.Record) error { rs = append(rs, r); return nil }); err != nil {
				return err
			}
			e.cache.records, e.cache.recordsOf = rs, ap
		}
		for _, r := range e.cache.records {
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	}
	_, err := state.EachRecord(e.path(state.FileApplied), fn)
	return err
}

// eachRecordLine calls fn with every line of the applied record, read as
// text line by line (state.RecordLine), where eachRecord would read the
// file rather than records it holds; false, having called nothing, where
// it would not.
func (e *Engine) eachRecordLine(keep bool, fn func(*state.RecordLine) error) (bool, error) {
	k, ok := keyOf(e.path(state.FileApplied))
	if keep || ok && e.cache.applied != nil && k == e.cache.appliedKey {
		return false, nil
	}
	rr, c, err := state.OpenRecordText(e.path(state.FileApplied))
	if rr == nil {
		return true, err
	}
	defer c.Close()
	// A file read whole with every line checked, unchanged since, is
	// read again without checking (a status reads it twice).
	if kc, ok := keyOf(e.path(state.FileApplied)); ok && kc == k && e.cache.linesChecked == k {
		rr.Checked = true
	}
	for {
		l, err := rr.Next()
		if err != nil {
			return true, err
		}
		if l == nil {
			if kc, ok := keyOf(e.path(state.FileApplied)); ok && kc == k {
				e.cache.linesChecked = k
			}
			return true, nil
		}
		if err := fn(l); err != nil {
			return true, err
		}
	}
}

// loadIndex returns the drift index, read again only if the file changed.
func (e *Engine) loadIndex() *state.Index {
	file := e.path(state.FileIndex)
	k, ok := keyOf(file)
	if ok && e.cache.index != nil && k == e.cache.indexKey {
		return e.cache.index
	}
	ix := state.LoadIndex(file)
	if e.cache.index != nil {
		e.cache.index.Close()
	}
	e.cache.index, e.cache.indexKey = ix, k
	return ix
}

// savedIndex notes that the engine wrote the index itself.
func (e *Engine) savedIndex(ix *state.Index) {
	if k, ok := keyOf(e.path(state.FileIndex)); ok {
		e.cache.index, e.cache.indexKey = ix, k
	}
}
