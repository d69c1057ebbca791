package apply

import (
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"trail/apply/kind"
	"trail/apply/state"
	"trail/stepfmt"
)

// Restart is a step that an apply acts on again after its changes,
// because paths it names change: a unit restarted or reloaded.
type Restart struct {
	Step *stepfmt.Step
	// Work says what is done (Changes) or why nothing is (Notes).
	Work kind.Work
}

// planRestarts lists what applying p would restart: what Apply's
// restarts does with the changes the plan's checks found.
func planRestarts(x *kind.Exec, p *Plan, old, steps []*stepfmt.Step) []Restart {
	changed := make(changeSet)
	did := make(map[stepfmt.ID]kind.Work)
	for i, c := range p.Changes {
		if !p.Work[i].None() {
			did[c.Step.ID()] = p.Work[i]
			if !p.Work[i].Quiet {
				changed.add(c.Step.Kind, c.Step.Target)
			}
		}
	}
	if len(changed) == 0 {
		return nil
	}
	var out []Restart
	prev := byID(old)
	for _, s := range steps {
		rs, ok := restarterOf(s)
		if !ok {
			continue
		}
		if t, ok := decide(rs, changed, s, prev[s.ID()]); ok {
			out = append(out, Restart{Step: s, Work: rs.PlanRestart(x, s, did[s.ID()], t)})
		}
	}
	return out
}

// changeSet is a set of what changed, as triggers name it: the paths, and
// package:NAME and command:NAME for the packages and commands
// (stepfmt.TriggerOf).
type changeSet map[string]bool

// add notes a change of the step with identity (k, target), if it is one
// a trigger can name.
func (ps changeSet) add(k stepfmt.Kind, target string) {
	if w, ok := stepfmt.TriggerOf(k, target); ok {
		ps[w] = true
	}
}

// under returns what of ps is at or under one of roots, sorted: a path
// at or under a root path, a package or command named by a root.
func (ps changeSet) under(roots []string) []string {
	if len(roots) == 0 || len(ps) == 0 {
		return nil
	}
	set := make(map[string]bool, len(roots))
	for _, p := range roots {
		set[p] = true
	}
	var out []string
	for c := range ps {
		if !strings.HasPrefix(c, "/") {
			if set[c] {
				out = append(out, c)
			}
			continue
		}
		for p := c; ; p = path.Dir(p) {
			if set[p] {
				out = append(out, c)
				break
			}
			if p == "/" {
				break
			}
		}
	}
	sort.Strings(out)
	return out
}

// decide says what the change of paths calls for in a step whose versions
// (new, old; nil ones skipped) are given: a restart when a path falls
// under a restart trigger of either, else a reload when one falls under a
// reload trigger, else nothing (ok false).
func decide(rs kind.Restarter, paths changeSet, versions ...*stepfmt.Step) (kind.Trigger, bool) {
	var restart, reload []string
	for _, s := range versions {
		if s != nil {
			rt, rl := rs.Triggers(s)
			restart, reload = append(restart, rt...), append(reload, rl...)
		}
	}
	if why := paths.under(restart); len(why) > 0 {
		return kind.Trigger{Why: why}, true
	}
	if why := paths.under(reload); len(why) > 0 {
		return kind.Trigger{Why: why, Reload: true}, true
	}
	return kind.Trigger{}, false
}

func restarterOf(s *stepfmt.Step) (kind.Restarter, bool) {
	row := handlerOf(s.Kind)
	if row == nil {
		return nil, false
	}
	rs, ok := row.h.(kind.Restarter)
	return rs, ok
}

// did records the work of a change that was made, as far as restarts
// need it: what it changed, as triggers name it, and the work of a
// restarter.
func (r *run) did(s *stepfmt.Step, w kind.Work) {
	if !r.restarting {
		return
	}
	if r.changed == nil {
		r.changed = make(changeSet)
	}
	if t, ok := stepfmt.TriggerOf(s.Kind, s.Target); ok && !w.Quiet && r.watched(t) {
		r.changed[t] = true
	}
	if _, ok := restarterOf(s); ok {
		if r.done == nil {
			r.done = make(map[stepfmt.ID]kind.Work)
		}
		r.done[s.ID()] = w
	}
}

// watched reports whether what a trigger names as t is at or under what
// a trigger of a restarter of the list, or of the applied list, names:
// only such changes can restart anything (changeSet.under), and a unit
// beside a tree of 100,000 files need not keep every file's path.
func (r *run) watched(t string) bool {
	if r.roots == nil {
		r.roots = map[string]bool{}
		for _, l := range [][]*stepfmt.Step{r.list.Steps, r.cur.list.Steps} {
			for _, s := range l {
				if rs, ok := restarterOf(s); ok {
					rt, rl := rs.Triggers(s)
					for _, p := range append(rt, rl...) {
						r.roots[p] = true
					}
				}
			}
		}
	}
	if !strings.HasPrefix(t, "/") {
		return r.roots[t]
	}
	for p := t; ; p = path.Dir(p) {
		if r.roots[p] {
			return true
		}
		if p == "/" {
			return false
		}
	}
}

// restarts runs Restart for every step whose triggers cover a path
// changed in this apply. A failing restart fails the apply, which is then
// rolled back.
func (r *run) restarts() error {
	changed := r.changed
	if len(changed) == 0 {
		return nil
	}
	old := byID(r.cur.list.Steps)
	for _, s := range r.list.Steps {
		rs, ok := restarterOf(s)
		if !ok {
			continue
		}
		t, ok := decide(rs, changed, s, old[s.ID()])
		if !ok {
			continue
		}
		start := time.Now()
		w, err := rs.Restart(r.x, s, r.done[s.ID()], t)
		if err != nil {
			return &stepError{s, err}
		}
		r.event(restartEvent(s, w, nil, time.Since(start)))
	}
	return nil
}

func restartEvent(s *stepfmt.Step, w kind.Work, err error, d time.Duration) Event {
	result := StepUnchanged
	if !w.None() {
		result = StepChanged
	}
	if err != nil {
		result = ResultFailed
	}
	return Event{Type: EventStep, Step: stepLine(s), Source: s.Src.String(), Op: OpRestart, Result: result,
		Detail: strings.Join(append(append([]string{}, w.Changes...), w.Notes...), "; "), Err: err, Duration: d}
}

func byID(steps []*stepfmt.Step) map[stepfmt.ID]*stepfmt.Step {
	m := make(map[stepfmt.ID]*stepfmt.Step, len(steps))
	for _, s := range steps {
		m[s.ID()] = s
	}
	return m
}

// restartUndone restarts, after this apply was undone, every step whose
// triggers cover what the undo put back (restartAfterUndo).
func (r *run) restartUndone(put changeSet) {
	restartAfterUndo(r.x, r.cur.list.Steps, r.list.Steps, put, r.event)
}

// restartAfterUndo restarts what read the paths, packages and commands
// an undo put back (paths, as undoAll names them: every change it undid
// but those whose undo is quiet, kind.Work.Quiet): every step of the
// restored list whose triggers (there or in the undone list) cover one,
// as that step says (a unit meant to run is restarted, one not said to
// run only if it runs); then every step only the undone list had, as one
// that says nothing of running, so a unit that ran before trail managed
// it reads its old files again and one trail started and the undo
// stopped stays stopped. They are those the apply meant to change,
// whether or not it got to: restarting once too often is better than
// serving a configuration that is no longer on disk. It is best effort:
// the undo has happened, and each failure is reported.
func restartAfterUndo(x *kind.Exec, restored, undone []*stepfmt.Step, paths changeSet, emit func(Event)) {
	if len(paths) == 0 {
		return
	}
	had, gone := byID(restored), byID(undone)
	one := func(s *stepfmt.Step, versions ...*stepfmt.Step) {
		rs, ok := restarterOf(s)
		if !ok {
			return
		}
		t, ok := decide(rs, paths, versions...)
		if !ok {
			return
		}
		t.Undone = true
		start := time.Now()
		w, err := rs.Restart(x, s, kind.Work{}, t)
		emit(restartEvent(s, w, err, time.Since(start)))
	}
	for _, s := range restored {
		one(s, s, gone[s.ID()])
	}
	for _, s := range undone {
		if had[s.ID()] == nil {
			one(&stepfmt.Step{Kind: s.Kind, Target: s.Target, Src: s.Src}, s)
		}
	}
}

// restartRecovered is restartAfterUndo for an apply undone at recovery:
// undoAll names what it put back of the journal's intents, the applied
// record the list put back, and the generation's saved step list the
// undone one.
func (e *Engine) restartRecovered(x *kind.Exec, js *state.JournalState, cur int, paths changeSet, emit func(Event)) {
	if len(paths) == 0 {
		return
	}
	restored, err := e.stepsOf(cur)
	if err != nil {
		emit(Event{Type: EventStep, Op: OpRestart, Result: ResultFailed,
			Err: fmt.Errorf("cannot restart what read the files put back: %w", err)})
		return
	}
	// The undone list may never have been saved (a crash before it was):
	// then its intents are all there is of it.
	undone, err := e.stepsOf(js.Gen)
	if err != nil {
		for _, in := range js.Intents {
			undone = append(undone, in.Step)
		}
	}
	restartAfterUndo(x, restored, undone, paths, emit)
}

// stepsOf reads the step list of generation n (none for 0).
func (e *Engine) stepsOf(n int) ([]*stepfmt.Step, error) {
	data, err := e.readSteps(n)
	if err != nil || n == 0 {
		return nil, err
	}
	l, errs := stepfmt.ParseString(state.StepsFile(e.genDir(), n), data)
	if len(errs) > 0 {
		return nil, errs.Err()
	}
	return l.Steps, nil
}
