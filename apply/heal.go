package apply

import (
	"context"
	"fmt"
	"time"

	"trail/apply/kind"
	"trail/apply/state"
)

// Heal puts back every drifted target whose step has drift=heal, as an
// apply of the current list that modifies only those steps (and the paths
// owned by name by an account it puts back, see revisits): under the lock
// and the journal, saving what it overwrites, reporting each target with
// an EventHeal, and recording a generation for the same commit. It
// returns nil and does nothing when nothing with that policy drifted.
func (e *Engine) Heal(ctx context.Context) (*Generation, error) {
	lk, err := e.hold()
	if err != nil {
		return nil, err
	}
	defer lk.Release()
	cur, err := e.loadCurrent()
	if err != nil || cur.gen == 0 {
		return nil, err
	}
	if err := cur.load(e, nil); err != nil {
		return nil, err
	}
	was, err := state.LoadGeneration(e.genDir(), cur.gen)
	if err != nil {
		return nil, err
	}
	x := e.newExec()
	p, err := e.plan(x, cur.list, cur, func(rec *kind.Record) bool { return rec.Policy == kind.PolicyHeal }, true)
	if p == nil {
		return nil, err
	}
	if len(p.Changes) == 0 && err == nil {
		return nil, nil
	}
	num, nerr := e.nextGeneration()
	if nerr != nil {
		return nil, nerr
	}
	g := &Generation{Number: num, From: cur.gen, Commit: was.Commit, Branch: was.Branch, Host: was.Host,
		Subject: fmt.Sprintf("heal %d drifted target(s)", len(p.Changes)), Start: time.Now(), Result: ResultRunning, Dir: e.genDir()}
	if err != nil {
		return e.refuse(g, cur.list, err)
	}
	g.Counts = Counts{Modified: len(p.Changes), Unchanged: p.Unchanged}
	r := newRun(e, x, g, cur, cur.list, p)
	r.heal = true
	return r.run(ctx)
}
