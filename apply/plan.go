package apply

import (
	"bufio"
	"bytes"
	"fmt"
	"hash/maphash"
	"io"
	"os"
	"slices"
	"strings"

	"trail/apply/kind"
	"trail/apply/state"
	"trail/stepfmt"
)

// Plan is what an apply of a list would do: the stepfmt plan (removed steps
// reversed, then added and modified steps in order) and, for each change,
// the Work the shared check path found. Apply runs the same checks, so the
// plan says exactly what it will do.
type Plan struct {
	*stepfmt.Plan
	// Work[i] is what Changes[i] would do; Work[i].None() means the
	// target already matches. A run's own plan has none.
	Work []kind.Work
	// From is the generation the plan starts from (0: nothing applied).
	From int
	// Restarts are the steps acted on again after the changes: units
	// restarted or reloaded because files they name change.
	Restarts []Restart
	// x is the operation the plan was made in (see Content and SecretAt).
	x *kind.Exec
}

// Content returns the content Changes[i] would write to its target that
// its check computed rather than found in the store: an EDIT's file with
// the edits applied, which a plan shows as a diff.
func (p *Plan) Content(i int) ([]byte, bool) {
	if p.x == nil {
		return nil, false
	}
	return p.x.Derived(p.Work[i].Target.Value("content"))
}

// SecretAt reports whether a secret step names path, in the list
// planned or in the applied one: what is there, or will be, is a secret,
// which a plan must not show. Unknown (true) for a plan made for a run.
func (p *Plan) SecretAt(path string) bool {
	return p.x == nil || p.x.IsSecret(path)
}

// Plan checks l against the current generation and the machine, changing
// nothing. Its error lists every problem (an ErrorList), each at its step's
// source: invalid steps, kinds this trail cannot apply, contents missing
// from the store, unknown owners, parents that are symlinks or missing,
// non-empty directories in the way.
func (e *Engine) Plan(l *stepfmt.List) (*Plan, error) {
	x := e.newExec()
	cur, err := e.loadCurrent()
	if err != nil {
		return nil, err
	}
	return e.plan(x, l, cur, nil, false)
}

// current is the applied state: generation, its steps, the record.
type current struct {
	gen   int
	steps string // the step list's file, read as it is needed
	// loaded is set once load ran, and loadErr is what it returned.
	loaded  bool
	loadErr error
	list    *stepfmt.List
	applied *state.Applied
	// text, when set, is the list about to be applied, printed and
	// compared with this one (printList), which load's parse uses.
	text *listText
	// fetch is the apply's Meta.Fetch.
	fetch func(keys []string) error
	// validated is set when the list to apply is this generation's own
	// (Meta.ReadFrom): the plan does not validate it again.
	validated bool
}

func (e *Engine) loadCurrent() (*current, error) {
	n, err := state.ReadAppliedGeneration(e.path(state.FileApplied))
	if err != nil {
		return nil, err
	}
	c := &current{gen: n, list: &stepfmt.List{}, applied: &state.Applied{}}
	if n == 0 {
		return c, nil
	}
	c.steps = state.StepsFile(e.genDir(), n)
	if _, err := os.Stat(c.steps); err != nil {
		return nil, fmt.Errorf("state: generation %d has no step list: %w", n, err)
	}
	return c, nil
}

// load parses the step list and the applied record, which the no-op path
// does without. A line of the list that prints as a step of next (the
// list about to be applied) is that step, shared rather than parsed
// (sharedParse); the text is not kept.
func (c *current) load(e *Engine, next []*stepfmt.Step) error {
	if c.gen == 0 || c.loaded {
		return c.loadErr
	}
	c.loaded = true
	c.loadErr = c.parse(e, next)
	return c.loadErr
}

// parse is load's work, once.
func (c *current) parse(e *Engine, next []*stepfmt.Step) error {
	f, err := os.Open(c.steps)
	if err != nil {
		return fmt.Errorf("state: %w", err)
	}
	l, errs := sharedParse(c.steps, f, next, c.text)
	f.Close()
	if len(errs) > 0 {
		return fmt.Errorf("state: the applied step list is damaged: %w", errs.Err())
	}
	ap, err := e.loadApplied()
	if err != nil {
		return err
	}
	if ap.Generation != c.gen {
		return fmt.Errorf("state: the applied record changed while it was read: try again")
	}
	for _, s := range l.Steps {
		if !ap.Has(s.ID()) {
			return fmt.Errorf("state: the applied record has no entry for %s of generation %d: restore %s from a backup", s.ID(), c.gen, e.path(state.FileApplied))
		}
	}
	c.list, c.applied = l, ap
	return nil
}

// sharedParse parses the step list in src as stepfmt.ParseString does,
// except that a line that prints exactly as a step of next, source and
// all, is that step: the lists of two commits mostly share their steps,
// and two parsed lists of 100,000 steps would take twice the memory of
// one. next's steps are found by a hash of how they print; the other
// lines are parsed together, at their own line numbers. The list is read
// line by line: the text of 100,000 steps is 14 MB.
//
// With t, next's printing (printList), next's steps are not printed
// again: the lines t found next's first t.prefix steps print as are
// those steps, as are all lines when t.same, and any other line is the
// step of next whose printed line has the same 128-bit hash under t's
// seeds, looked for at the line after the step found last, else among
// all.
func sharedParse(name string, src io.ReadSeeker, next []*stepfmt.Step, t *listText) (*stepfmt.List, stepfmt.ErrorList) {
	whole := func() (*stepfmt.List, stepfmt.ErrorList) {
		var b strings.Builder
		_, err := src.Seek(0, io.SeekStart)
		if err == nil {
			_, err = io.Copy(&b, src)
		}
		if err != nil {
			return nil, stepfmt.ErrorList{{Src: stepfmt.Source{File: name}, Msg: err.Error()}}
		}
		return stepfmt.ParseString(name, b.String())
	}
	if len(next) == 0 {
		return whole()
	}
	find := sharedFinder(next, t)
	r := bufio.NewReaderSize(src, 64<<10)
	var long []byte
	readLine := func() ([]byte, error) {
		line, err := r.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			long = append(long[:0], line...)
			for err == bufio.ErrBufferFull {
				line, err = r.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if err == io.EOF && len(line) > 0 {
			err = nil
		}
		return bytes.TrimSuffix(line, []byte("\n")), err
	}
	var others strings.Builder
	header, err := readLine()
	if err != nil && err != io.EOF {
		return whole()
	}
	others.Write(header)
	others.WriteByte('\n')
	if t != nil && t.same {
		l, errs := stepfmt.ParseString(name, others.String())
		if len(errs) > 0 || len(l.Steps) > 0 {
			return whole()
		}
		l.Steps = slices.Clone(next)
		return l, nil
	}
	steps := make([]*stepfmt.Step, 0, len(next))
	holes := 0
	for {
		line, err := readLine()
		if err == io.EOF {
			break
		}
		if err != nil {
			return whole()
		}
		if s := find(len(steps), line); s != nil {
			steps = append(steps, s)
			others.WriteByte('\n')
			continue
		}
		steps = append(steps, nil)
		holes++
		others.Write(line)
		others.WriteByte('\n')
	}
	l, errs := stepfmt.ParseString(name, others.String())
	if len(errs) > 0 || len(l.Steps) != holes {
		// Errors, or a comment or blank line the parser skipped: the
		// holes do not line up, so the whole text is parsed.
		return whole()
	}
	parsed := l.Steps
	for i, s := range steps {
		if s == nil {
			steps[i], parsed = parsed[0], parsed[1:]
		}
	}
	l.Steps = steps
	return l, nil
}

// sharedFinder returns what sharedParse asks of each line: the step of
// next that line n of the list, line, prints as, or nil.
func sharedFinder(next []*stepfmt.Step, t *listText) func(n int, line []byte) *stepfmt.Step {
	if t == nil {
		seed := maphash.MakeSeed()
		var b bytes.Buffer
		print := func(s *stepfmt.Step) []byte {
			b.Reset()
			stepfmt.AppendStep(&b, s, true)
			return b.Bytes()
		}
		at := make(map[uint64]int32, len(next))
		for i, s := range next {
			at[maphash.Bytes(seed, print(s))] = int32(i)
		}
		return func(_ int, line []byte) *stepfmt.Step {
			if i, ok := at[maphash.Bytes(seed, line)]; ok && bytes.Equal(line, print(next[i])) {
				return next[i]
			}
			return nil
		}
	}
	var at map[uint64]int32
	j := t.prefix // where the step after the one found last is
	return func(n int, line []byte) *stepfmt.Step {
		if n < t.prefix {
			return next[n]
		}
		h := t.sum(line)
		if j < len(next) && t.sums[j] == h {
			j++
			return next[j-1]
		}
		if j+1 < len(next) && t.sums[j+1] == h {
			j += 2
			return next[j-1]
		}
		if j < len(next) && sameID(line, next[j]) {
			// The step after the one found last, changed: no other step
			// of next has its identity, so none prints as the line.
			j++
			return nil
		}
		if at == nil {
			at = make(map[uint64]int32, len(next)-t.prefix)
			for i := t.prefix; i < len(next); i++ {
				at[t.sums[i][0]] = int32(i)
			}
		}
		if i, ok := at[h[0]]; ok && t.sums[i] == h {
			j = int(i) + 1
			return next[i]
		}
		return nil
	}
}

// sameID reports whether line, a printed step, is of s's identity.
func sameID(line []byte, s *stepfmt.Step) bool {
	k, rest, ok := bytes.Cut(line, []byte(" "))
	if !ok || string(k) != string(s.Kind) {
		return false
	}
	q := stepfmt.Quote(s.Target)
	return bytes.HasPrefix(rest, []byte(q)) && (len(rest) == len(q) || rest[len(q)] == ' ')
}

// plan diffs l against the applied list and checks every change. Steps
// the diff finds unchanged are revisited (planned as modifies of
// themselves) when the machine may no longer match them: a path whose
// owner or group names an account the plan changes, since its number was
// resolved when it was applied (see revisits), and, when redo is set,
// each step whose target drifted and redo accepts. A revisit whose check
// finds the target matching is dropped again.
//
// A plan for a run (forRun) keeps no Work: the run checks each change
// again itself as it makes it; the plan only drops the revisits that
// would do nothing. It plans no restarts, which the run decides from what
// it did.
func (e *Engine) plan(x *kind.Exec, l *stepfmt.List, cur *current, redo func(*kind.Record) bool, forRun bool) (*Plan, error) {
	// The applied list was validated when it was applied.
	if !cur.validated {
		if errs := stepfmt.Validate(l); len(errs) > 0 {
			return nil, errs
		}
	}
	if err := cur.load(e, l.Steps); err != nil {
		return nil, err
	}
	x.PlanNames(l)
	x.MarkSecrets(cur.applied.Get, l, cur.list)
	for _, row := range handlers {
		if lp, ok := row.h.(kind.ListPlanner); ok {
			if err := lp.PlanList(x, l, cur.applied.Get); err != nil {
				return nil, err
			}
		}
	}
	p := &Plan{Plan: stepfmt.Diff(cur.list.Steps, l.Steps), From: cur.gen}
	again, errs := revisits(x, l, cur, p.Plan, redo)
	if len(again) > 0 {
		p.Plan = withRevisits(p.Plan, l, cur, again)
	}
	if cur.fetch != nil {
		if err := e.fetchMissing(x, p.Plan, cur.fetch); err != nil {
			return nil, err
		}
	}
	for _, row := range handlers {
		if cp, ok := row.h.(kind.ChangePlanner); ok {
			cp.PlanChanges(x, p.Plan, l, cur.applied.Get)
		}
	}
	// idle[i] is set when Changes[i] would do nothing and note nothing:
	// all a run's plan keeps of its work.
	var idle []bool
	if forRun {
		reserveIndex(x, p.Changes)
		idle = make([]bool, len(p.Changes))
	} else {
		p.Work = make([]kind.Work, len(p.Changes))
	}
	v := kind.NewPlanView(x)
	for i, c := range p.Changes {
		w, err := checkChange(v, c, cur.applied)
		if err != nil {
			errs = append(errs, &stepfmt.Error{Src: c.Step.Src, Kind: c.Step.Kind, Target: c.Step.Target, Msg: err.Error()})
			continue
		}
		if forRun {
			idle[i] = w.None() && len(w.Notes) == 0
		} else {
			p.Work[i] = w
		}
	}
	if err := cur.applied.Err(); err != nil {
		return nil, err
	}
	if err := errs.Err(); err != nil {
		return p, err
	}
	if len(again) > 0 {
		if !forRun {
			idle = make([]bool, len(p.Changes))
			for i, w := range p.Work {
				idle[i] = w.None() && len(w.Notes) == 0
			}
		}
		dropMatching(p, again, idle)
	}
	if !forRun {
		p.Restarts = planRestarts(x, p, cur.list.Steps, l.Steps)
		p.x = x
	}
	return p, nil
}

// fetchMissing has fetch put into the store the contents that p's added
// and modified steps name (Step.StoreKey) and the store lacks or holds
// corrupt, before they are checked. Only these few are read whole to
// verify them; a corrupt file of its own is removed first and the key
// marked for a fresh file of its own (Store.Rewrite: a corrupt packed
// copy stays, and reads take the good file instead), so the fetch stores
// the content again (a staging skips a key the store has).
func (e *Engine) fetchMissing(x *kind.Exec, p *stepfmt.Plan, fetch func([]string) error) error {
	var keys, bad []string
	for _, c := range p.Changes {
		k, ok := c.Step.StoreKey()
		if c.Op == stepfmt.OpRemove || !ok || !strings.HasPrefix(k, "sha256:") || slices.Contains(keys, k) {
			continue
		}
		if !x.HasBlob(k) {
			keys = append(keys, k)
			continue
		}
		if verifyBlob(x.Store(), k) == nil {
			continue
		}
		if data, err := os.ReadFile(e.store.Path(k)); err == nil && kind.HashKey(data) != k {
			if err := os.Remove(e.store.Path(k)); err != nil {
				return fmt.Errorf("removing the corrupt copy of content %s from the store: %w", k, err)
			}
		}
		// A corrupt packed copy stays (a gc drops it); the content is
		// stored again as a file of its own, which reads take instead.
		e.store.Rewrite(k)
		keys, bad = append(keys, k), append(bad, k)
	}
	if len(keys) == 0 {
		return nil
	}
	if err := fetch(keys); err != nil {
		return fmt.Errorf("putting back %d content(s) missing from the store or corrupt in it, which the changes need: %w", len(keys), err)
	}
	for _, k := range bad {
		if err := verifyBlob(x.Store(), k); err != nil {
			return fmt.Errorf("content %s, which the changes need, is still corrupt after it was read from the commit again ('trail fsck' reports where): %w", k, err)
		}
	}
	return nil
}

// verifyBlob reads blob key whole, which fails if it is missing or does
// not hash to its key.
func verifyBlob(b kind.Blobs, key string) error {
	r, err := b.Open(key)
	if err != nil {
		return err
	}
	defer r.Close()
	_, err = io.Copy(io.Discard, r)
	return err
}

// checkChange runs the check of one change through its kind's handler.
func checkChange(v *kind.View, c stepfmt.Change, ap *state.Applied) (kind.Work, error) {
	row := handlerOf(c.Step.Kind)
	if row == nil {
		names := make([]string, len(handlers))
		for i, h := range handlers {
			names[i] = string(h.kind)
		}
		return kind.Work{}, fmt.Errorf("%s steps cannot be applied by this trail yet (it applies %s)", c.Step.Kind, strings.Join(names, ", "))
	}
	var rec *kind.Record
	if c.Op != stepfmt.OpAdd {
		rec = ap.Get(c.Step.ID())
	}
	return checkOp(row.h, v, c, rec)
}

// PrintPlan writes the plan for people: one line per change, marked - for
// a reversed step, + for an added one and ~ for a modified one, followed
// by what the change does to the machine ("nothing: already matches" when
// the target matches), and by what it leaves alone and why; then, marked
// *, each step acted on again after the changes (a unit restarted or
// reloaded) and why.
func PrintPlan(w io.Writer, p *Plan) error {
	var b bytes.Buffer
	for i, c := range p.Changes {
		b.WriteByte(c.Op.Sign())
		b.WriteByte(' ')
		stepfmt.AppendStep(&b, stepfmt.Masked(c.Step), true)
		b.WriteByte('\n')
		work := p.Work[i]
		if work.None() && len(work.Notes) == 0 {
			b.WriteString("    nothing: already matches\n")
		}
		for _, s := range work.Changes {
			b.WriteString("    " + s + "\n")
		}
		for _, s := range work.Notes {
			b.WriteString("    note: " + s + "\n")
		}
	}
	for _, r := range p.Restarts {
		b.WriteString("* ")
		stepfmt.AppendStep(&b, stepfmt.Masked(r.Step), true)
		b.WriteByte('\n')
		for _, s := range r.Work.Changes {
			b.WriteString("    " + s + "\n")
		}
		for _, s := range r.Work.Notes {
			b.WriteString("    note: " + s + "\n")
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}
