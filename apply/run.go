package apply

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"trail/apply/kind"
	"trail/apply/state"
	"trail/stepfmt"
)

// Apply moves the machine to l: it plans (validating the whole list and
// checking every change before the first one is made), refuses a mass
// removal unless allowed, then runs the plan under the lock and the
// write-ahead journal, and records a generation. A failing step stops the
// apply and undoes its changes, so the machine stays at the old generation;
// the returned generation then records the failure and the error names the
// step's source. Applying the list that is already applied, for the same
// commit, changes and writes nothing: the generation returned is the
// applied one, marked NoOp. With meta.Force, every target the list shares
// with the applied one is checked against the machine first, and those
// that drifted are modified back (see Meta.Force).
func (e *Engine) Apply(ctx context.Context, l *stepfmt.List, meta Meta) (*Generation, error) {
	if meta.Commit == "" {
		meta.Commit = l.Header.Commit
	}
	if meta.Host == "" {
		meta.Host = l.Header.Host
	}
	lk, err := e.lock()
	if err != nil {
		e.emit(Event{Type: EventRefusal, Commit: meta.Commit, Branch: meta.Branch, Err: err})
		return nil, err
	}
	defer lk.Release()
	start := time.Now()
	if err := e.recoverIfNeeded(); err != nil {
		return nil, err
	}
	list := &stepfmt.List{Header: stepfmt.Header{Version: stepfmt.Version, Commit: meta.Commit, Host: meta.Host}, Steps: l.Steps}
	cur, err := e.loadCurrent()
	if err != nil {
		return nil, err
	}
	text := &listText{same: true}
	if cur.gen == 0 || meta.ReadFrom != cur.gen {
		text, err = printList(cur.steps, e.genDir(), list)
		if err != nil {
			return nil, err
		}
	}
	defer text.discard()
	cur.text, cur.fetch = text, meta.Fetch
	cur.validated = cur.gen > 0 && meta.ReadFrom == cur.gen
	same := cur.gen > 0 && text.same
	if same && !meta.Force {
		return e.unchanged(cur, list, meta, start)
	}
	num, err := e.nextGeneration()
	if err != nil {
		return nil, err
	}
	g := &Generation{Number: num, From: cur.gen, Commit: meta.Commit, Branch: meta.Branch, Host: meta.Host,
		Subject: meta.Subject, Start: time.Now(), Result: ResultRunning, Dir: e.genDir()}
	x := e.newExec()
	var redo func(*kind.Record) bool
	if meta.Force {
		redo = func(*kind.Record) bool { return true }
	}
	p, err := e.plan(x, list, cur, redo, true)
	if err == nil && same && len(p.Changes) == 0 {
		e.saveHashes(x)
		return e.unchanged(cur, list, meta, start)
	}
	if err == nil {
		err = e.guard(cur, list, p, meta)
	}
	if err != nil {
		return e.refuse(g, list, err)
	}
	g.Counts = Counts{Added: p.Count(stepfmt.OpAdd), Modified: p.Count(stepfmt.OpModify),
		Removed: p.Count(stepfmt.OpRemove), Unchanged: p.Unchanged}
	return newRun(e, x, g, cur, list, p).run(ctx)
}

// saveHashes saves the drift index after a forced check that found
// nothing to change but hashed more than a few files again (entries
// racily clean when the index was saved, files touched but not changed):
// else every later --force hashes them again, as at 10,000 files the
// last 2,000 written by an apply. The index is a cache; nothing else is
// written.
func (e *Engine) saveHashes(x *kind.Exec) {
	ix := driftIndex(x)
	if !ix.Dirty || ix.Behind() {
		return
	}
	// Parsed whole, the index is saved as of now, its entries still
	// racily clean left out (Index.Save): the lines of one not parsed keep
	// the time they were written at, and with it those entries untrusted.
	ix.KeepAll()
	if ix.Save() == nil {
		e.savedIndex(ix)
	}
}

// unchanged is the no-op path: the list is the applied one. For the same
// commit nothing is written; for another commit a generation is recorded
// that changed nothing, so the record names the commit the host runs,
// timed from start, when the lock was taken.
func (e *Engine) unchanged(cur *current, list *stepfmt.List, meta Meta, start time.Time) (*Generation, error) {
	g, err := state.LoadGeneration(e.genDir(), cur.gen)
	if err != nil {
		return nil, err
	}
	n := len(list.Steps)
	if g.Commit == meta.Commit {
		e.emit(Event{Type: EventApplyEnd, Commit: g.Commit, Branch: meta.Branch, Generation: g.Number, Result: StepUnchanged, Counts: Counts{Unchanged: n}})
		g.NoOp = true
		return g, nil
	}
	num, err := e.nextGeneration()
	if err != nil {
		return nil, err
	}
	ng := &Generation{Number: num, From: cur.gen, Commit: meta.Commit, Branch: meta.Branch, Host: meta.Host,
		Subject: meta.Subject, Start: start, End: time.Now(), Result: ResultOK, Counts: Counts{Unchanged: n}, Dir: e.genDir()}
	if _, err := state.SaveList(e.genDir(), num, list); err != nil {
		return nil, err
	}
	if err := state.SaveGeneration(e.genDir(), ng); err != nil {
		return nil, err
	}
	if err := state.CopyApplied(e.path(state.FileApplied), num); err != nil {
		return nil, err
	}
	e.emit(Event{Type: EventApplyEnd, Commit: ng.Commit, Branch: ng.Branch, Generation: num, Result: ResultOK, Counts: ng.Counts})
	return ng, nil
}

// refuse records an apply that changed nothing because of err.
func (e *Engine) refuse(g *Generation, list *stepfmt.List, err error) (*Generation, error) {
	g.Result, g.Error, g.End = ResultRefused, err.Error(), time.Now()
	var el stepfmt.ErrorList
	if errors.As(err, &el) && len(el) > 0 {
		g.ErrorSource = el[0].Src.String()
		g.ErrorStep = strings.TrimSpace(string(el[0].Kind) + " " + el[0].Target)
	}
	if _, serr := state.SaveList(e.genDir(), g.Number, list); serr != nil {
		return nil, errors.Join(err, serr)
	}
	if serr := state.SaveGeneration(e.genDir(), g); serr != nil {
		return nil, errors.Join(err, serr)
	}
	e.emit(Event{Type: EventRefusal, Commit: g.Commit, Branch: g.Branch, Generation: g.Number, Source: g.ErrorSource, Err: err})
	e.emit(Event{Type: EventApplyEnd, Commit: g.Commit, Branch: g.Branch, Generation: g.Number, Result: ResultRefused, Err: err, Duration: g.End.Sub(g.Start)})
	return g, err
}

// MassRemovalError is the refusal of a plan that removes too much in an
// apply that is not deliberate (Meta.Deliberate) or allowed
// (Options.AllowMassRemoval).
type MassRemovalError struct {
	Removed, Managed int
	Empty            bool
}

func (m *MassRemovalError) Error() string {
	if m.Empty {
		return fmt.Sprintf("refusing to apply an empty step list over %d managed targets: an empty or broken config must not remove everything by itself", m.Managed)
	}
	return fmt.Sprintf("refusing to remove %d of %d managed targets (more than half) by itself", m.Removed, m.Managed)
}

// guard is the mass-removal guard (DESIGN invariant 3): it stops a config
// that arrives by itself emptied or gutted, not an admin's deliberate move
// to a commit (meta.Deliberate), which is how a rollback to before trail
// restores the machine.
func (e *Engine) guard(cur *current, l *stepfmt.List, p *Plan, meta Meta) error {
	managed := len(cur.list.Steps)
	if e.opts.AllowMassRemoval || meta.Deliberate || managed == 0 {
		return nil
	}
	removed := p.Count(stepfmt.OpRemove) - p.Replaced()
	if len(l.Steps) == 0 {
		return &MassRemovalError{Removed: removed, Managed: managed, Empty: true}
	}
	if 2*removed > managed {
		return &MassRemovalError{Removed: removed, Managed: managed}
	}
	return nil
}
