package apply

import (
	"trail/apply/kind"
	"trail/apply/state"
	"trail/stepfmt"
)

// Drift is a managed target whose present state differs from what trail
// last wrote.
type Drift struct {
	ID     stepfmt.ID
	Policy string     // the step's drift policy: report, heal or ignore
	Wrote  kind.Image // what trail wrote (the attributes the step manages)
	Now    kind.Image // what is there now, in the same shape
	// Changed names what differs: "state", "content", "mode", "uid", ...
	Changed []string
	// Err is set when the target could not be read; Now is then empty.
	Err error
}

// Drift lists the managed targets that drifted, in the order of the
// applied list, including those whose policy is ignore (callers decide
// what to show). It stats only managed paths and reads only files whose
// size, times or inode changed since they were last hashed. It takes the
// lock, so it does not look at a machine half-way through an apply.
func (e *Engine) Drift() ([]Drift, error) {
	lk, err := e.hold()
	if err != nil {
		return nil, err
	}
	defer lk.Release()
	x := e.newExec()
	ix := driftIndex(x)
	var out []Drift
	e.drifts++
	check := func(rec *kind.Record) error {
		// Marked after its check, whose hash of a changed file replaces
		// the file's entry.
		defer ix.Mark(rec.ID.Target)
		row := handlerOf(rec.ID.Kind)
		if row == nil {
			return nil
		}
		now, err := row.h.Drift(x, rec.ID.Target, rec.Wrote)
		if err != nil {
			out = append(out, Drift{ID: rec.ID, Policy: rec.Policy, Wrote: rec.Wrote, Err: err})
			return nil
		}
		if !now.Equal(rec.Wrote) {
			out = append(out, Drift{ID: rec.ID, Policy: rec.Policy, Wrote: rec.Wrote, Now: now, Changed: changed(rec.Wrote, now)})
		}
		return nil
	}
	read, err := e.eachRecordLine(e.drifts > 1, func(l *state.RecordLine) error {
		if row := handlerOf(l.ID.Kind); row != nil {
			if m, ok := row.h.(kind.Matcher); ok && m.Matches(x, l.ID.Target, l.Wrote) {
				ix.Mark(l.ID.Target)
				return nil
			}
		}
		rec, err := l.Record()
		if err != nil {
			return err
		}
		return check(rec)
	})
	if !read {
		err = e.eachRecord(e.drifts > 1, check)
	}
	if err != nil {
		ix.KeepAll()
		return nil, err
	}
	ix.KeepMarked()
	if ix.Save() == nil {
		e.savedIndex(ix)
	}
	for _, d := range out {
		if d.Policy != kind.PolicyIgnore {
			e.emit(Event{Type: EventDrift, Step: d.ID.String(), Detail: driftDetail(d), Err: d.Err})
		}
	}
	return out, nil
}

// changed names the differences between two images of a target.
func changed(a, b kind.Image) []string {
	if a.State != b.State {
		return []string{"state"}
	}
	var out []string
	for _, x := range a.Attrs {
		if v, ok := b.Get(x.Key); !ok || v != x.Value {
			out = append(out, x.Key)
		}
	}
	for _, y := range b.Attrs {
		if _, ok := a.Get(y.Key); !ok {
			out = append(out, y.Key)
		}
	}
	return out
}

func driftDetail(d Drift) string {
	if d.Err != nil {
		return "cannot read: " + d.Err.Error()
	}
	return "trail wrote " + d.Wrote.Shown(d.ID.Kind) + "; found " + d.Now.Shown(d.ID.Kind)
}
