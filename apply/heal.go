package apply

import (
	"context"
	"fmt"
	"time"

	"trail/stepfmt"
)

// Heal puts back every drifted target whose step has drift=heal, as an
// apply of the current list that modifies only those steps: under the
// lock and the journal, saving what it overwrites, reporting each target
// with an EventHeal, and recording a generation for the same commit. It
// returns nil and does nothing when nothing with that policy drifted.
func (e *Engine) Heal(ctx context.Context) (*Generation, error) {
	lk, err := e.lock()
	if err != nil {
		return nil, err
	}
	defer lk.release()
	if err := e.recoverIfNeeded(); err != nil {
		return nil, err
	}
	cur, err := e.loadCurrent()
	if err != nil || cur.gen == 0 {
		return nil, err
	}
	if err := cur.load(e); err != nil {
		return nil, err
	}
	was, err := loadGeneration(e.genDir(), cur.gen)
	if err != nil {
		return nil, err
	}
	x := e.newExec()
	var changes []stepfmt.Change
	for _, s := range cur.list.Steps {
		rec := cur.applied.get(s.ID())
		row := handlerOf(s.Kind)
		if rec.Policy != PolicyHeal || row == nil {
			continue
		}
		now, err := row.h.Drift(x, s.Target, rec.Wrote)
		if err != nil {
			return nil, &stepError{s, err}
		}
		if !now.Equal(rec.Wrote) {
			changes = append(changes, stepfmt.Change{Op: stepfmt.OpModify, Step: s, Old: s})
		}
	}
	if len(changes) == 0 {
		return nil, nil
	}
	num, err := e.nextGeneration()
	if err != nil {
		return nil, err
	}
	g := &Generation{Number: num, From: cur.gen, Commit: was.Commit, Branch: was.Branch, Host: was.Host,
		Subject: fmt.Sprintf("heal %d drifted target(s)", len(changes)), Start: time.Now(), Result: ResultRunning, dir: e.genDir()}
	p := &Plan{Plan: &stepfmt.Plan{Changes: changes, Unchanged: len(cur.list.Steps) - len(changes)}, From: cur.gen}
	p.Work = make([]Work, len(changes))
	v := &View{x: x, overlay: make(map[viewKey]Image), fresh: make(map[string]bool)}
	var errs stepfmt.ErrorList
	for i, c := range changes {
		w, err := checkChange(v, c, cur.applied)
		if err != nil {
			errs = append(errs, &stepfmt.Error{Src: c.Step.Src, Kind: c.Step.Kind, Target: c.Step.Target, Msg: err.Error()})
		}
		p.Work[i] = w
	}
	if err := errs.Err(); err != nil {
		return e.refuse(g, cur.steps, err)
	}
	g.Counts = Counts{Modified: len(changes), Unchanged: p.Unchanged}
	r := &run{e: e, x: x, g: g, cur: cur, list: cur.list, plan: p, heal: true, text: cur.steps,
		next: make(map[stepfmt.ID]*Record, len(changes))}
	return r.run(ctx)
}
