package apply

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"trail/apply/kind"
	"trail/apply/state"
	"trail/stepfmt"
)

// fail ends an apply whose step or bookkeeping failed: staged writes are
// dropped, every journaled change is undone, newest first, and the
// generation records the failure. When the undo itself fails the journal
// stays, so that the next Open tries again.
func (r *run) fail(cause error) (*Generation, error) {
	r.x.Root.Abort()
	r.e.store.Abort()
	var se *stepError
	if errors.As(cause, &se) {
		r.g.ErrorStep = se.step.ID().String()
		r.g.ErrorSource = se.step.Src.String()
		r.event(Event{Type: EventStepFailed, Step: stepLine(se.step), Source: r.g.ErrorSource, Err: se.err,
			Detail: strings.Join(r.unguarded, "; ")})
	}
	recs, undoErr := r.undoRecs()
	var put changeSet
	if undoErr == nil {
		put, undoErr = undoAll(r.x, recs, func(ev Event) { r.event(ev) }, r.e.crashPoint)
	}
	var refreshed string
	if undoErr == nil {
		refreshed = refreshAfterUndo(r.x, recs)
	}
	r.restartUndone(put)
	r.g.Result, r.g.Error, r.g.End = ResultFailed, cause.Error(), time.Now()
	if undoErr != nil {
		r.g.Error += "; undoing it failed too, the journal is kept for the next run: " + undoErr.Error()
	}
	r.event(Event{Type: EventRollback, Result: resultOf(undoErr), Err: undoErr, Detail: refreshed, Counts: r.g.Counts})
	serr := state.SaveGeneration(r.e.genDir(), r.g)
	if r.j != nil && undoErr == nil {
		r.j.Close()
		serr = errors.Join(serr, state.RemoveJournal(r.e.path(state.FileJournal)))
	}
	r.event(Event{Type: EventApplyEnd, Result: ResultFailed, Err: cause, Counts: r.g.Counts, Duration: r.g.End.Sub(r.g.Start)})
	return r.g, errors.Join(cause, undoErr, serr)
}

func resultOf(err error) string {
	if err != nil {
		return ResultFailed
	}
	return ResultOK
}

// refreshAfterUndo lets every kind.Refresher bring what its tool derives
// from the paths put back in line with them (apt's lists), best effort,
// and says what was done and what failed.
func refreshAfterUndo(x *kind.Exec, recs []undoRec) string {
	undone := make([]*stepfmt.Step, len(recs))
	for i, u := range recs {
		undone[i] = u.step
	}
	var out []string
	for _, row := range handlers {
		rf, ok := row.h.(kind.Refresher)
		if !ok {
			continue
		}
		done, err := rf.Refresh(x, undone)
		if err != nil {
			done = err.Error()
		}
		if done != "" {
			out = append(out, done)
		}
	}
	return strings.Join(out, "; ")
}

// undoAll restores every record's image, newest first, and makes the
// result durable. It is idempotent: a change that never ran, or was
// already undone, finds its target at the image and does nothing; that is
// what lets recovery undo an apply cut anywhere, even mid-undo. It returns
// what it put back as restart triggers name it: every record's target,
// whether its change had run or not, but one whose undo work is quiet
// (kind.Work.Quiet), by the rule an apply counts its changes with.
func undoAll(x *kind.Exec, recs []undoRec, emit func(Event), crash func(string)) (changeSet, error) {
	v := kind.NewView(x)
	put := make(changeSet)
	var errs []error
	for i := len(recs) - 1; i >= 0; i-- {
		u := recs[i]
		row := handlerOf(u.step.Kind)
		if row == nil {
			errs = append(errs, fmt.Errorf("%s: cannot undo: this trail does not know the kind", u.step.ID()))
			put.add(u.step.Kind, u.step.Target)
			continue
		}
		if row.path {
			x.Root.RemoveTemp(u.step.Target)
		} else if err := x.Root.Flush(); err != nil {
			// A tool reads and writes the files in place: the paths
			// put back before it must be there, as an apply's batches
			// are before a change of a kind that runs alone.
			errs = append(errs, err)
		}
		x.TakeReports()
		x.ForgetAccounts() // what was undone before may have put an account back
		w, err := row.h.CheckRestore(v, u.step, u.img)
		if err == nil && !w.None() {
			err = row.h.Restore(x, u.step, u.img, w)
		}
		if err != nil || !w.Quiet {
			put.add(u.step.Kind, u.step.Target)
		}
		if !row.path && !w.None() {
			x.Root.Forget() // its tool may have removed directories the undo puts back after it
		}
		reports := x.TakeReports()
		if err != nil {
			errs = append(errs, (&stepError{u.step, err}))
			continue
		}
		result := StepChanged
		if w.None() {
			result = StepUnchanged
		}
		if len(w.Notes) > 0 {
			result = StepKept
		}
		emit(Event{Type: EventStep, Step: stepLine(u.step), Source: u.step.Src.String(), Op: OpUndo, Result: result,
			Detail: strings.Join(append(append(append([]string{}, w.Changes...), w.Notes...), reports...), "; ")})
		crash("undo " + strconv.Itoa(i))
	}
	if err := x.Root.Flush(); err != nil {
		errs = append(errs, err)
	}
	return put, errors.Join(errs...)
}

// hold takes the state lock and finishes an interrupted apply under it;
// the caller releases the lock.
func (e *Engine) hold() (*state.Lock, error) {
	lk, err := e.lock()
	if err != nil {
		return nil, err
	}
	if err := e.recoverIfNeeded(); err != nil {
		lk.Release()
		return nil, err
	}
	return lk, nil
}

// recoverIfNeeded finishes an interrupted apply if its journal is there,
// and first removes what trails that are gone left in store/tmp: a plan,
// which keeps no journal, may have been killed while a validate command
// checked a secret's copy there. The caller holds the lock.
func (e *Engine) recoverIfNeeded() error {
	e.cleanStoreTemp()
	if _, err := os.Stat(e.path(state.FileJournal)); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return e.recover()
}

// recover deals with the journal of an apply that did not finish. If the
// applied record already names the journal's generation, the apply had
// committed and only the journal is left to remove. Otherwise what a
// killed shadow tool left in /etc is cleared, every change it intended is
// undone, newest first, and its generation is recorded as interrupted;
// then what read the files put back is restarted (see restartRecovered).
// The caller holds the lock, and taking it killed every program the dead
// apply was running (internal/proc).
func (e *Engine) recover() error {
	file := e.path(state.FileJournal)
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	js, err := state.ParseJournal(file, data)
	if err != nil {
		return fmt.Errorf("journal: the journal of an interrupted apply is damaged: %w; trail cannot know what to undo: inspect it, restore the machine by hand, then remove it", err)
	}
	cur, err := state.ReadAppliedGeneration(e.path(state.FileApplied))
	if err != nil {
		return err
	}
	if cur == js.Gen {
		return state.RemoveJournal(file)
	}
	x := e.newExec()
	// What the dead apply ran was killed when the lock was taken; what a
	// killed account tool left would stop the undo's tools.
	done := []string{"interrupted apply undone at recovery"}
	var clearErr error
	for _, row := range handlers {
		if rc, ok := row.h.(kind.Recoverer); ok {
			d, err := rc.RecoverTools(x)
			clearErr = errors.Join(clearErr, err)
			if d != "" {
				done = append(done, d)
			}
		}
	}
	recs := make([]undoRec, len(js.Intents))
	for i, in := range js.Intents {
		recs[i] = undoRec{step: in.Step, img: in.Undo}
	}
	b := js.Begin
	g := &Generation{Number: js.Gen, From: js.From, Commit: b.Commit, Branch: b.Branch, Host: b.Host,
		Subject: b.Subject, Start: b.Start, Dir: e.genDir()}
	if saved, err := state.LoadGeneration(e.genDir(), js.Gen); err == nil {
		g = saved
	}
	ev := func(ev Event) {
		ev.Commit, ev.Branch, ev.Generation = g.Commit, g.Branch, g.Number
		e.emit(ev)
	}
	put, undoErr := undoAll(x, recs, ev, e.crashPoint)
	if undoErr == nil {
		if d := refreshAfterUndo(x, recs); d != "" {
			done = append(done, d)
		}
	}
	undoErr = errors.Join(clearErr, undoErr)
	ev(Event{Type: EventRollback, Result: resultOf(undoErr), Err: undoErr, Detail: strings.Join(done, "; ")})
	if undoErr != nil {
		return fmt.Errorf("journal: undoing the interrupted apply of generation %d failed (the journal is kept, the next run tries again): %w", js.Gen, undoErr)
	}
	e.restartRecovered(x, js, cur, put, ev)
	g.Result, g.End = ResultInterrupted, time.Now()
	g.Error = "the apply was interrupted; its changes were undone when trail next ran"
	if err := state.SaveGeneration(e.genDir(), g); err != nil {
		return err
	}
	return state.RemoveJournal(file)
}

// cleanStoreTemp removes what processes that are gone left in store/tmp
// (Store.RemoveTemps): half-written blobs where the file system has no
// O_TMPFILE, the packs they were staging into (which have no index), and
// the work directories of steps (Store.MkdirTemp),
// such as a validate's copy of a secret; and the temporary files of
// generation records, step lists and the applied record, which are
// written only under the lock, so one there when the lock is taken is a
// killed writer's.
func (e *Engine) cleanStoreTemp() {
	gens := e.path(state.DirGenerations)
	if ents, err := os.ReadDir(gens); err == nil {
		for _, ent := range ents {
			if strings.HasSuffix(ent.Name(), state.TempSuffix) {
				os.Remove(filepath.Join(gens, ent.Name()))
			}
		}
	}
	state.RemoveAppliedTemps(e.dir)
	e.store.RemoveTemps()
}
