package apply

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"trail/apply/kind"
	"trail/apply/state"
	"trail/internal/fsx"
	"trail/stepfmt"
)

// run is one apply in progress.
type run struct {
	e    *Engine
	x    *kind.Exec
	g    *Generation
	cur  *current
	list *stepfmt.List
	plan *Plan
	// textLen is the size of the step list the generation saved, for
	// the state's size.
	textLen int64
	j       *state.Journal
	// undo lists every change whose intent is journaled, in order: what a
	// rollback restores, newest first (undoRecs).
	undo undoList
	// next[k-nextAt] holds the record change k of the batch being made
	// leaves (its ID empty for none), and made those of the batches
	// before, kept in a file until the commit writes the new applied
	// record. A slice reused by every batch, where a map and a record
	// each per change cost an allocation or two per file.
	next   []kind.Record
	nextAt int
	made   *state.RecordFile
	// heal marks a run that puts drifted targets back (Engine.Heal).
	heal bool
	// restarting is set when a step of the list may restart for what
	// changed (a kind.Restarter): only then does the run note them.
	restarting bool
	// done holds the work of every restarter's change made so far, and
	// changed what changed so far, as triggers name it (restart.go).
	done    map[stepfmt.ID]kind.Work
	changed changeSet
	// roots holds what the restarters' triggers name (watched).
	roots map[string]bool
	// shipped holds the steps of the batch made last whose change may
	// have replaced files other steps manage, and shippedBefore the files
	// they shipped before it (recheckShipped); guards are the steps whose
	// pre-images were journaled for such a change (guardShipped).
	shipped       []*stepfmt.Step
	shippedBefore map[string]bool
	guards        []*stepfmt.Step
	// reshipped says, for each step planned again so, which change
	// replaced its file: not drift, which a hand makes.
	reshipped map[stepfmt.ID]string
	// unguarded says why the batch being made could not guard the files
	// its packages will ship (kind.Shipper's reports): the event of its
	// first change made, or of the step it fails at, carries it.
	unguarded []string
	// quiet[k-quietAt] is set for change k of the batch being made when
	// it changed nothing: its file's index entry is as the check left it.
	quiet   []bool
	quietAt int
	// alone is set while a batch of paths is made in which each target
	// is made by its own change alone: none removes a step, whose
	// reverse may put back a directory with what was in it.
	alone bool
	// held holds the step events of a batch of paths until its writes
	// are made (held.go), while holding is set.
	held    []heldEvent
	holding bool
}

// newRun starts the run of plan p from cur to list. The plan's Work is
// dropped: each change is checked again as it is made, and a plan of
// many changes need not hold two works for each.
func newRun(e *Engine, x *kind.Exec, g *Generation, cur *current, list *stepfmt.List, p *Plan) *run {
	p.Work = nil
	r := &run{e: e, x: x, g: g, cur: cur, list: list, plan: p, undo: undoList{at: make([]int32, 0, len(p.Changes))}}
	for _, s := range list.Steps {
		if _, ok := restarterOf(s); ok {
			r.restarting = true
			break
		}
	}
	reserveIndex(x, p.Changes)
	return r
}

// reserveIndex tells the drift index how many entries the added files
// of changes may put: many are then spilled to runs as they come. The
// plan does so before its checks too, as a take-over's check of each
// pre-image hashes the file there and puts its entry: held until the
// run, 100,000 of them took 12 MB at the plan's end.
func reserveIndex(x *kind.Exec, changes []stepfmt.Change) {
	files := 0
	for _, c := range changes {
		if c.Op == stepfmt.OpAdd && (c.Step.Kind == stepfmt.KindFile || c.Step.Kind == stepfmt.KindEdit) {
			files++
		}
	}
	driftIndex(x).Reserve(files)
}

// journaled is a change whose intent is journaled: its place in the plan
// and its undo image, nil for a bare absent one (a first apply's are);
// the run lists them as an undoList.
type journaled struct {
	i   int32
	img *kind.Image
}

func journaledAs(i int, img kind.Image) journaled {
	if img.State == kind.StateAbsent && len(img.Attrs) == 0 {
		return journaled{int32(i), nil}
	}
	return journaled{int32(i), &img}
}

func (u journaled) image() kind.Image {
	if u.img == nil {
		return kind.Absent()
	}
	return *u.img
}

// undoRecs returns the journaled changes as their undo sees them.
func (r *run) undoRecs() ([]undoRec, error) {
	recs := make([]undoRec, r.undo.len())
	for j := range recs {
		u, err := r.undo.get(j)
		if err != nil {
			return nil, err
		}
		recs[j] = undoRec{r.stepOf(u.i), u.image(), int(u.i)}
	}
	return recs, nil
}

// undoRec is one change as its undo sees it: the step and the image of
// its target before the change; i is the change's place in the plan.
type undoRec struct {
	step *stepfmt.Step
	img  kind.Image
	i    int
}

func (r *run) event(ev Event) {
	ev.Commit, ev.Branch, ev.Generation = r.g.Commit, r.g.Branch, r.g.Number
	r.e.emit(ev)
}

func (r *run) run(ctx context.Context) (*Generation, error) {
	r.event(Event{Type: EventApplyStart, Counts: r.g.Counts})
	j, err := state.BeginJournal(r.e.path(state.FileJournal), r.g)
	if err != nil {
		return r.fail(err)
	}
	r.j = j
	defer j.Close()
	if r.made, err = state.NewRecordFile(r.e.dir); err != nil {
		return r.fail(err)
	}
	defer r.made.Close()
	r.e.crashPoint("begin")
	n, err := r.saveList()
	if err != nil {
		return r.fail(err)
	}
	r.textLen = n
	if err := state.SaveGeneration(r.e.genDir(), r.g); err != nil {
		return r.fail(err)
	}
	r.e.crashPoint("generation started")
	for i := 0; i < len(r.plan.Changes); {
		end := r.batchEnd(i)
		if err := r.batch(ctx, i, end); err != nil {
			return r.fail(err)
		}
		if err := r.recheckShipped(end); err != nil {
			return r.fail(err)
		}
		i = end
	}
	if err := r.restarts(); err != nil {
		return r.fail(err)
	}
	if err := r.verify(ctx); err != nil {
		return r.fail(err)
	}
	return r.commit()
}

// saveList writes the generation's step list: the text printed when the
// list was compared with the applied one, else the list printed now.
func (r *run) saveList() (int64, error) {
	if t := r.cur.text; t != nil && t.pending != nil {
		return t.pending.Save(r.e.genDir(), r.g.Number)
	}
	return state.SaveList(r.e.genDir(), r.g.Number, r.list)
}

// batch runs changes [i, end): capture every pre-image and make it
// durable, journal the intents, make the changes, make them durable,
// journal them done. Directories are looked up afresh before the changes,
// so one replaced by a symlink since the plan is refused, not written to.
func (r *run) batch(ctx context.Context, i, end int) error {
	changes := r.plan.Changes
	r.x.Root.Forget() // what the plan or a tool kind's change left is looked up anew
	imgs := make([]kind.Image, end-i)
	undos := make([]kind.Image, end-i)
	_, family := handlerOf(changes[i].Step.Kind).h.(kind.SharedUndoImager)
	shared := end > i+1 && (r.familyEnd(i) >= end || family && r.groupEnd(i) >= end)
	pres, err := r.captureGroup(i, end, shared)
	if err != nil {
		return err
	}
	for k := i; k < end; k++ {
		s := changes[k].Step
		if shared && k > i {
			undos[k-i] = undos[0].Clone()
			continue // captured right before its change or group, after those before it
		}
		img, err := r.captureAt(pres, i, k)
		if err == nil {
			undos[k-i], err = r.undoImageOf(changes[k], img)
		}
		if err != nil {
			return &stepError{s, fmt.Errorf("saving its pre-image: %w", err)}
		}
		imgs[k-i] = img
	}
	guards, err := r.guardShipped(i, end)
	if err != nil {
		return err
	}
	if err := r.e.store.Flush(); err != nil {
		return placeBatch(changes[i:end], fmt.Errorf("saving pre-images: %w", err))
	}
	for _, g := range guards {
		r.j.Intent(int(g.i), stepfmt.OpModify, r.stepOf(g.i), g.image())
		r.undo.add(g)
	}
	for k := i; k < end; k++ {
		r.j.Intent(k, changes[k].Op, changes[k].Step, undos[k-i])
		r.undo.add(journaledAs(k, undos[k-i]))
	}
	if err := r.j.Sync(); err != nil {
		return placeBatch(changes[i:end], err)
	}
	r.e.crashPoint("intents " + strconv.Itoa(i))
	r.quiet, r.quietAt = append(r.quiet[:0], make([]bool, end-i)...), i
	r.next, r.nextAt = append(r.next[:0], make([]kind.Record, end-i)...), i
	r.x.Root.Forget()
	r.x.ForgetAccounts()
	r.alone = false
	if handlerOf(changes[i].Step.Kind).path {
		// The files a batch of paths creates are written while the
		// next changes are checked and made; Flush waits for them.
		r.x.Root.Background(true)
		defer r.x.Root.Background(false)
		r.hold()
		defer r.drop() // the batch failed before its writes were waited for
		r.alone = !slices.ContainsFunc(changes[i:end], func(c stepfmt.Change) bool { return c.Op == stepfmt.OpRemove })
	}
	// capture takes the pre-images of [a, b) not taken yet (a shared
	// batch takes them as it goes).
	capture := func(a, b int) error {
		for m := max(a, i+1); shared && m < b; m++ {
			img, err := r.capture(changes[m])
			if err != nil {
				return &stepError{changes[m].Step, fmt.Errorf("saving its pre-image: %w", err)}
			}
			imgs[m-i] = img
		}
		return nil
	}
	for k := i; k < end; {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("apply cancelled before %s: %w", changes[k].Step.ID(), err)
		}
		if g := min(r.groupEnd(k), end); g > k {
			if err := capture(k, g); err != nil {
				return err
			}
			if err := r.changeGroup(k, changes[k:g], imgs[k-i:g-i]); err != nil {
				return err
			}
			r.e.crashPoint("step " + strconv.Itoa(g-1))
			k = g
			continue
		}
		if err := capture(k, k+1); err != nil {
			return err
		}
		if err := r.change(k, changes[k], imgs[k-i]); err != nil {
			return &stepError{changes[k].Step, err}
		}
		r.e.crashPoint("step " + strconv.Itoa(k))
		k++
	}
	r.unguarded = nil // told with its changes, or none made: not a later step's
	if err := r.e.store.Flush(); err != nil {
		return placeBatch(changes[i:end], fmt.Errorf("saving pre-images: %w", err))
	}
	if err := r.x.Root.Flush(); err != nil {
		r.release(err)
		return placeBatch(changes[i:end], fmt.Errorf("making steps %d to %d durable: %w", i+1, end, err))
	}
	r.release(nil)
	r.x.ForgetAccounts() // an account file the batch wrote is in place now
	r.e.crashPoint("flush " + strconv.Itoa(i))
	r.indexWritten(changes[i:end], r.quiet)
	if err := r.keepRecords(); err != nil {
		return placeBatch(changes[i:end], err)
	}
	for k := i; k < end; k++ {
		r.j.Done(k)
	}
	if err := r.j.Sync(); err != nil {
		return placeBatch(changes[i:end], err)
	}
	r.e.crashPoint("done " + strconv.Itoa(i))
	return nil
}

// keepRecords moves the records of a batch's changes, once made, from
// next to the record file.
func (r *run) keepRecords() error {
	for k := range r.next {
		if rec := r.nextOf(r.nextAt + k); rec != nil {
			if err := r.made.Put(rec); err != nil {
				return err
			}
		}
	}
	clear(r.next)
	return nil
}

// nextOf returns the record change k of the batch being made leaves, nil
// when it leaves none (a removal) or was not checked yet.
func (r *run) nextOf(k int) *kind.Record {
	if rec := &r.next[k-r.nextAt]; rec.ID.Kind != "" {
		return rec
	}
	return nil
}

// change makes change k, checking it again against the machine as it
// is now (the plan's checks saw a prediction).
func (r *run) change(k int, c stepfmt.Change, pre kind.Image) error {
	start := time.Now()
	h := handlerOf(c.Step.Kind).h
	r.x.TakeReports()
	w, err := r.check(k, h, c, pre)
	r.quiet[k-r.quietAt] = err == nil && w.None()
	if err == nil && !w.None() {
		err = doOp(h, r.x, c, r.cur.applied.Get(c.Step.ID()), w)
		if !handlerOf(c.Step.Kind).path || kind.AccountFile(c.Step.Target) {
			r.x.ForgetAccounts() // names resolve afresh in the rest of the batch
		}
		if b, ok := h.(kind.Bringer); ok && err == nil && c.Op != stepfmt.OpRemove {
			r.e.crashPoint("forward " + strconv.Itoa(k))
			err = r.amend(k, c, b)
		}
	}
	if err != nil {
		return err
	}
	r.finish(c, w, start)
	return nil
}

// amend folds what forward change k brought along into its undo image,
// journaled durably, and into its record's origin (see kind.Bringer).
func (r *run) amend(k int, c stepfmt.Change, b kind.Bringer) error {
	brought := r.x.TakeBrought(c.Step)
	for j := r.undo.len() - 1; j >= 0; j-- {
		if int(r.undo.place(j)) == k {
			u, err := r.undo.get(j)
			if err != nil {
				return err
			}
			img, err := b.WithBrought(u.image(), brought)
			if err != nil {
				return err
			}
			r.undo.set(j, journaledAs(k, img))
			r.j.Amend(k, img)
			break
		}
	}
	if rec := r.nextOf(k); rec != nil {
		origin, err := b.WithBrought(rec.Origin, brought)
		if err != nil {
			return err
		}
		rec.Origin = origin
	}
	return r.j.Sync()
}

// check notes drift and runs the check of change k, recording what the
// target's record becomes when the change is made.
func (r *run) check(k int, h kind.Handler, c stepfmt.Change, pre kind.Image) (kind.Work, error) {
	var v *kind.View
	if r.alone && pre.IsAbsent() && r.x.Root.Made(fsx.Parent(c.Step.Target)) {
		// Absent when its pre-image was taken, in a directory this
		// apply made, where nothing but its own change makes it since:
		// a look would find nothing.
		v = kind.NewViewKnowing(r.x, stepfmt.Namespace(c.Step.Kind), c.Step.Target, pre)
	} else {
		v = kind.NewView(r.x)
	}
	id := c.Step.ID()
	var rec *kind.Record
	if c.Op != stepfmt.OpAdd {
		rec = r.cur.applied.Get(id)
	}
	if _, again := r.reshipped[id]; rec != nil && !again {
		r.noteDrift(c.Step, h, rec)
	}
	w, err := checkOp(h, v, c, rec)
	if c.Op == stepfmt.OpRemove {
		return w, err
	}
	origin := pre
	if rb, ok := h.(kind.Rebaser); rec != nil && !(ok && rb.Rebase(r.x, rec, pre)) {
		origin = rec.Origin
	}
	if ot, ok := h.(kind.OriginTaker); ok && rec != nil && err == nil {
		if origin, err = ot.TakeOrigin(v, c.Step, origin); err != nil {
			return w, err
		}
	}
	r.next[k-r.nextAt] = kind.Record{ID: id, Policy: kind.PolicyOf(c.Step), Origin: origin, Wrote: w.After}
	return w, err
}

// finish counts and reports a change that was made.
func (r *run) finish(c stepfmt.Change, w kind.Work, start time.Time) {
	reports := r.x.TakeReports()
	if why, ok := r.reshipped[c.Step.ID()]; ok {
		reports = append(reports, why)
	}
	if !w.None() {
		r.did(c.Step, w)
		if _, ok := handlerOf(c.Step.Kind).h.(kind.Shipper); ok {
			r.shipped = append(r.shipped, c.Step)
			reports = append(reports, r.unguarded...)
			r.unguarded = nil
		}
	}
	result := StepChanged
	switch {
	case c.Op == stepfmt.OpRemove && len(w.Notes) > 0:
		result = StepKept
		r.g.Counts.Kept++
		r.g.Kept = append(r.g.Kept, w.Notes...)
	case w.None():
		result = StepUnchanged
	}
	if r.e.opts.OnEvent == nil {
		return
	}
	at, detail := time.Now(), detailOf(w.Changes, w.Notes, reports)
	r.stepEvent(heldEvent{step: c.Step, typ: EventStep, op: opOf(c.Op), result: result, detail: detail, dur: at.Sub(start), at: at})
	if r.heal {
		r.stepEvent(heldEvent{step: c.Step, typ: EventHeal, result: result, detail: detail, at: at})
	}
}

// noteDrift reports a target that differs from what trail wrote, before
// the change overwrites or removes it, and what of it is saved (the
// event's Result, a Drift* constant): a content is already in the store
// (Capture put it there), the rest is in the change's undo image, and a
// target found gone left nothing to save.
func (r *run) noteDrift(s *stepfmt.Step, h kind.Handler, rec *kind.Record) {
	now, err := h.Drift(r.x, s.Target, rec.Wrote)
	if err != nil || now.Equal(rec.Wrote) || rec.Policy == kind.PolicyIgnore {
		return
	}
	r.g.Counts.Drifted++
	saved := DriftSaved
	switch c := now.Value("content"); {
	case now.IsAbsent():
		r.g.Counts.DriftedGone++
		saved = DriftGone
	case c != "" && c != rec.Wrote.Value("content"):
		saved = DriftStored
	}
	r.g.Drift = append(r.g.Drift, DriftNote{Step: rec.ID.String(), Source: s.Src.String(), Before: rec.Wrote.Shown(s.Kind), After: now.Shown(s.Kind)})
	if r.e.opts.OnEvent != nil {
		r.stepEvent(heldEvent{step: s, typ: EventDrift, result: saved, at: time.Now(),
			detail: "trail wrote " + rec.Wrote.Shown(s.Kind) + "; found " + now.Shown(s.Kind) + " (" + saved + ")"})
	}
}
