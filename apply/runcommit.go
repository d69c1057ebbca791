package apply

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"trail/apply/kind"
	"trail/apply/state"
	"trail/internal/fsx"
	"trail/stepfmt"
)

// verify runs the post-apply checks of kinds that have them, in list
// order, reporting each with its source; the first failure fails the
// apply, which undoes it.
func (r *run) verify(ctx context.Context) error {
	for _, s := range r.list.Steps {
		row := handlerOf(s.Kind)
		if row == nil {
			continue
		}
		if v, ok := row.h.(kind.Verifier); ok {
			start := time.Now()
			r.x.TakeReports()
			err := v.Verify(ctx, r.x, s)
			r.event(Event{Type: EventCheck, Step: stepLine(s), Source: s.Src.String(), Result: resultOf(err),
				Detail: strings.Join(r.x.TakeReports(), "; "), Err: err, Duration: time.Since(start)})
			if err != nil {
				return &stepError{s, err}
			}
		}
	}
	return nil
}

// commit records the generation and makes it current: the durable rename
// of the applied record is the commit point; the journal goes after it.
func (r *run) commit() (*Generation, error) {
	if err := r.cur.applied.Err(); err != nil {
		return r.fail(err)
	}
	r.g.Result, r.g.End = ResultOK, time.Now()
	if err := state.SaveGeneration(r.e.genDir(), r.g); err != nil {
		return r.fail(err)
	}
	r.e.crashPoint("generation")
	// The new record is written as it is made, in the list's order: the
	// record made for a change, or the applied line copied as it is.
	made, err := r.made.Records()
	if err != nil {
		return r.fail(err)
	}
	ap, err := state.WriteApplied(r.e.path(state.FileApplied), r.g.Number, len(r.list.Steps), func(w *state.RecordWriter) error {
		for _, s := range r.list.Steps {
			id := s.ID()
			if !w.Copy(made, id) && !w.Copy(r.cur.applied, id) {
				return fmt.Errorf("internal error: no record for %s", id)
			}
		}
		r.e.crashPoint("applied record written, not yet renamed")
		return errors.Join(made.Err(), r.cur.applied.Err())
	})
	if err != nil {
		return r.fail(err)
	}
	r.e.wroteApplied(ap)
	r.e.crashPoint("commit")
	r.j.Close()
	if err := state.RemoveJournal(r.e.path(state.FileJournal)); err != nil {
		return r.g, err
	}
	r.e.crashPoint("journal")
	r.updateIndex()
	r.e.pruneAfterApply(int(r.textLen))
	r.event(Event{Type: EventApplyEnd, Result: ResultOK, Counts: r.g.Counts, Duration: r.g.End.Sub(r.g.Start)})
	return r.g, nil
}

// indexWritten records, right after a batch is durable, the stat and hash
// of every file it wrote, so that the next drift check need not read them.
// A change that did nothing (quiet[k], as a take-over of a file that
// holds its content already) is left out: its check hashed the file and
// put its entry, or found it. Putting 100,000 such entries again spilled
// them to runs that each later look-up searched, 24 reads a file.
func (r *run) indexWritten(changes []stepfmt.Change, quiet []bool) {
	for k, c := range changes {
		rec := r.nextOf(r.nextAt + k)
		if c.Step.Kind != stepfmt.KindFile && c.Step.Kind != stepfmt.KindEdit || rec == nil || quiet[k] {
			continue
		}
		// A file the batch made where nothing was: its writer's stat.
		st, ok := r.x.Root.CreatedStat(c.Step.Target)
		if !ok {
			var err error
			if st, err = r.x.Root.Lstat(c.Step.Target); err != nil {
				continue
			}
		}
		if st.Type == fsx.Regular {
			driftIndex(r.x).Put(c.Step.Target, st, rec.Wrote.Value("content"))
		}
	}
}

// updateIndex forgets what is no longer managed and saves the index. The
// index is a cache: failing to save it costs only time. An apply that
// removes no step manages every target it managed before, so only one
// that removes steps looks at every entry; and one that wrote only a few
// files leaves the file as it is (Index.Behind): the next drift check
// hashes those files again and saves it. An apply of one changed file
// at 100,000 files spent 0.12 CPU s parsing and printing the index.
func (r *run) updateIndex() {
	ix := driftIndex(r.x)
	if r.plan.Count(stepfmt.OpRemove) > 0 {
		for _, s := range r.list.Steps {
			ix.Mark(s.Target)
		}
		ix.KeepMarked()
	} else if ix.Behind() {
		return
	}
	if ix.Save() == nil {
		r.e.savedIndex(ix)
	}
}

// stepLine renders a step without its source, for events: masked, so no
// password hash reaches the journal (stepfmt.Masked).
func stepLine(s *stepfmt.Step) string {
	var b bytes.Buffer
	stepfmt.AppendStep(&b, stepfmt.Masked(s), false)
	return b.String()
}
