package apply

import (
	"bufio"
	"bytes"
	"io"
	"os"

	"trail/apply/kind"
	"trail/apply/state"
	"trail/stepfmt"
)

// ForceMatches is Apply with meta.Force of the applied generation's own
// list (meta.ReadFrom, the applied one) when nothing drifted, made
// without the list: it reads the generation's step list and the applied
// record side by side as text, one line of each a target, and compares
// every target on the machine with what trail wrote, as the plan's drift
// check does, most of them through their kind's Matcher (an lstat and the
// drift index, nothing decoded). Parsing a list of 100,000 steps to
// compare nothing but their targets took a third of such a --force.
//
// When every target matches it returns the applied generation marked
// NoOp and the number of steps, having written nothing but the drift
// index, as Apply would. It returns nil and no error when anything differs or cannot be read, or
// the state is not what it expects (another generation applied, a record
// that does not line up with the list, damage): the caller then applies
// the list, whose plan checks every target again and puts back what
// drifted, or says what is wrong.
func (e *Engine) ForceMatches(meta Meta) (*Generation, int, error) {
	lk, err := e.lock()
	if err != nil {
		e.emit(Event{Type: EventRefusal, Commit: meta.Commit, Branch: meta.Branch, Err: err})
		return nil, 0, err
	}
	defer lk.Release()
	if err := e.recoverIfNeeded(); err != nil {
		return nil, 0, err
	}
	n, err := state.ReadAppliedGeneration(e.path(state.FileApplied))
	if err != nil || n == 0 || n != meta.ReadFrom {
		return nil, 0, nil
	}
	g, err := state.LoadGeneration(e.genDir(), n)
	if err != nil || g.Commit != meta.Commit {
		return nil, 0, nil
	}
	x := e.newExec()
	count, ok := e.allMatch(x, n)
	if !ok {
		return nil, 0, nil
	}
	e.saveHashes(x)
	e.emit(Event{Type: EventApplyEnd, Commit: g.Commit, Branch: meta.Branch, Generation: g.Number, Result: StepUnchanged, Counts: Counts{Unchanged: count}})
	g.NoOp = true
	return g, count, nil
}

// allMatch reports whether every target of generation gen's list, the
// applied one, is on the machine as trail wrote it, and how many steps
// the list has. Its lines and the record's go in the same order, the
// record's written from the list (a line each); a pair that is not of one
// identity, or anything else not as expected, is false.
func (e *Engine) allMatch(x *kind.Exec, gen int) (int, bool) {
	f, err := os.Open(state.StepsFile(e.genDir(), gen))
	if err != nil {
		return 0, false
	}
	defer f.Close()
	steps := bufio.NewReaderSize(f, 64<<10)
	if _, err := steps.ReadSlice('\n'); err != nil {
		return 0, false
	}
	rr, c, err := state.OpenRecordText(e.path(state.FileApplied))
	if rr == nil || err != nil {
		return 0, false
	}
	defer c.Close()
	if rr.Generation != gen {
		return 0, false
	}
	count := 0
	for {
		line, lerr := steps.ReadSlice('\n')
		rl, rerr := rr.Next()
		if rerr != nil || lerr != nil && lerr != io.EOF {
			return 0, false
		}
		if len(line) == 0 && lerr == io.EOF {
			return count, rl == nil
		}
		if rl == nil || !stepLineIs(bytes.TrimSuffix(line, []byte("\n")), rl.ID) {
			return 0, false
		}
		count++
		if !targetMatches(x, rl) {
			return 0, false
		}
	}
}

// targetMatches is the plan's drift check of one target (revisits), the
// record's image compared as text where its kind can.
func targetMatches(x *kind.Exec, rl *state.RecordLine) bool {
	row := handlerOf(rl.ID.Kind)
	if row == nil {
		return true
	}
	if m, ok := row.h.(kind.Matcher); ok && m.Matches(x, rl.ID.Target, rl.Wrote) {
		return true
	}
	rec, err := rl.Record()
	if err != nil {
		return false
	}
	now, err := row.h.Drift(x, rec.ID.Target, rec.Wrote)
	return err == nil && now.Equal(rec.Wrote)
}

// stepLineIs reports whether line, a step as a list prints it, is of
// identity id: its kind, then its target, as Quote writes it.
func stepLineIs(line []byte, id stepfmt.ID) bool {
	k, rest, ok := bytes.Cut(line, []byte(" "))
	if !ok || string(k) != string(id.Kind) {
		return false
	}
	if len(rest) > 0 && rest[0] == '"' {
		q := stepfmt.Quote(id.Target)
		return bytes.HasPrefix(rest, []byte(q)) && (len(rest) == len(q) || rest[len(q)] == ' ')
	}
	t, _, _ := bytes.Cut(rest, []byte(" "))
	return string(t) == id.Target && stepfmt.Quote(id.Target) == id.Target
}
