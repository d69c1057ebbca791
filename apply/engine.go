package apply

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"trail/apply/kind"
	"trail/apply/state"
	"trail/internal/fsx"
)

// Options configure an Engine.
type Options struct {
	// Root is the directory every target is resolved under; "" is "/".
	Root string
	// StateDir holds trail's state; "" is DefaultStateDir.
	StateDir string
	// LockTimeout is how long an apply waits for another to finish before
	// it gives up with a *LockError; zero does not wait.
	LockTimeout time.Duration
	// OnEvent, when set, is called for everything the engine does.
	OnEvent func(Event)
	// StepText, when set, says whether OnEvent would use the text of the
	// next EventStep of a change; when it says no, the event comes with
	// its Type, Op, Result and Duration only (no Step, Source or
	// Detail): an apply of 100,000 files reports as many to a reporter
	// that may only count them.
	StepText func() bool
	// AllowMassRemoval lets an apply remove more than half of the managed
	// targets, or apply an empty list over a non-empty record.
	AllowMassRemoval bool
	// Decrypt decrypts the content of a secret FILE step (secret=age),
	// with the host's key; nil refuses every step that has one. It is
	// called while a step is checked, never for a target it only reads.
	Decrypt func(ciphertext []byte) ([]byte, error)
	// Seal encrypts to the host's own key: the pre-image of a path a
	// secret step names is kept sealed in the store, never in the clear,
	// and Decrypt opens it when it is put back.
	Seal func(plaintext []byte) ([]byte, error)

	// batchSize caps the changes made durable together (tests shrink it).
	batchSize int
	// crash, when set, is called at every boundary of an apply, named; a
	// test kills the process there to check recovery.
	crash func(point string)
	// gcGraceSet replaces state.GCGrace, so tests can prune what they
	// just stored.
	gcGraceSet   bool
	gcGraceValue time.Duration
	// autoGCLeast replaces state.AutoGCMin when set.
	autoGCLeast int64
}

func (o Options) gcGrace() time.Duration {
	if o.gcGraceSet {
		return o.gcGraceValue
	}
	return state.GCGrace
}

// defaultBatch is how many changes are made durable together at most.
const defaultBatch = 4096

// Engine applies step lists to one root with one state directory. It is
// not safe for concurrent use; separate processes serialize on the lock.
type Engine struct {
	opts  Options
	dir   string
	root  *fsx.Root
	store *Store
	cache cache
	// drifts counts the drift checks made: from the second on, the
	// applied record is kept parsed between them (eachRecord).
	drifts int
}

// Open prepares the state directory (mode 0700) and the root. It takes the
// lock only when it finds the journal of an interrupted apply, which it
// undoes before returning (see doc.go for why undo, not redo).
func Open(opts Options) (*Engine, error) {
	if opts.Root == "" {
		opts.Root = "/"
	}
	if opts.StateDir == "" {
		opts.StateDir = DefaultStateDir
	}
	if opts.batchSize <= 0 {
		opts.batchSize = defaultBatch
	}
	dir, err := filepath.Abs(opts.StateDir)
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, state.DirGenerations), state.DirMode); err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	// Only when needed: a chmod moves the directory's ctime, and opening
	// is the no-op path's cost.
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != state.DirMode {
		if err := os.Chmod(dir, state.DirMode); err != nil {
			return nil, fmt.Errorf("state: %w", err)
		}
	}
	store, err := state.NewStore(filepath.Join(dir, state.DirStore))
	if err != nil {
		return nil, err
	}
	root, err := fsx.Open(opts.Root)
	if err != nil {
		return nil, fmt.Errorf("root: %w", err)
	}
	e := &Engine{opts: opts, dir: dir, root: root, store: store}
	if _, err := os.Stat(e.path(state.FileJournal)); err == nil {
		l, err := e.hold()
		if err != nil {
			root.Close()
			return nil, err
		}
		l.Release()
	}
	return e, nil
}

// Close releases the root and the applied record it keeps open.
func (e *Engine) Close() error {
	e.cache.applied.Close()
	e.cache.applied = nil
	e.cache.records, e.cache.recordsOf = nil, nil
	if e.cache.index != nil {
		e.cache.index.Close()
		e.cache.index = nil
	}
	e.store.Close()
	return e.root.Close()
}

// Store returns the content store, where callers put compiled contents
// before Plan and Apply.
func (e *Engine) Store() *Store { return e.store }

// StateDir returns the absolute state directory.
func (e *Engine) StateDir() string { return e.dir }

func (e *Engine) path(name string) string { return filepath.Join(e.dir, name) }

func (e *Engine) genDir() string { return e.path(state.DirGenerations) }

// lock takes the state lock, waiting up to LockTimeout.
func (e *Engine) lock() (*state.Lock, error) {
	return state.Acquire(e.path(state.FileLock), e.opts.LockTimeout)
}

func (e *Engine) emit(ev Event) {
	if e.opts.OnEvent == nil {
		return
	}
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	e.opts.OnEvent(ev)
}

// stepText reports whether the next EventStep of a change needs its
// text (Options.StepText).
func (e *Engine) stepText() bool {
	return e.opts.StepText == nil || e.opts.StepText()
}

func (e *Engine) crashPoint(name string) {
	if e.opts.crash != nil {
		e.opts.crash(name)
	}
}

// Current returns the generation the machine is at, or nil when nothing
// was applied yet.
func (e *Engine) Current() (*Generation, error) {
	n, err := state.ReadAppliedGeneration(e.path(state.FileApplied))
	if err != nil || n == 0 {
		return nil, err
	}
	return state.LoadGeneration(e.genDir(), n)
}

// Generation returns the record of generation n.
func (e *Engine) Generation(n int) (*Generation, error) {
	return state.LoadGeneration(e.genDir(), n)
}

// Generations returns every recorded generation, newest first: successful,
// failed, refused and interrupted applies alike.
func (e *Engine) Generations() ([]*Generation, error) {
	nums, err := state.GenerationNumbers(e.genDir())
	if err != nil {
		return nil, err
	}
	slices.Reverse(nums)
	out := make([]*Generation, 0, len(nums))
	for _, n := range nums {
		g, err := state.LoadGeneration(e.genDir(), n)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, nil
}

// nextGeneration returns the number the next apply records under. The
// caller holds the lock, so a newest generation still "running" belongs to
// a process that died before its journal began: it changed nothing, and
// is recorded as interrupted.
func (e *Engine) nextGeneration() (int, error) {
	nums, err := state.GenerationNumbers(e.genDir())
	if err != nil {
		return 0, err
	}
	if len(nums) == 0 {
		return 1, nil
	}
	last := nums[len(nums)-1]
	if g, err := state.LoadGeneration(e.genDir(), last); err == nil && g.Result == ResultRunning {
		g.Result, g.End = ResultInterrupted, time.Now()
		g.Error = "the apply stopped before it changed anything"
		if err := state.SaveGeneration(e.genDir(), g); err != nil {
			return 0, err
		}
	}
	return last + 1, nil
}

// newExec starts an operation: fresh directory lookups, the hash index.
func (e *Engine) newExec() *kind.Exec {
	e.root.Forget()
	e.root.ForgetMade()
	x := kind.NewExec(e.root, e.store, e.loadIndex())
	x.SetSecrets(e.opts.Decrypt, e.opts.Seal)
	return x
}

// readSteps returns the step list file of generation n, or "".
func (e *Engine) readSteps(n int) (string, error) {
	if n == 0 {
		return "", nil
	}
	data, err := state.ReadString(state.StepsFile(e.genDir(), n))
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("state: generation %d has no step list: %w", n, err)
	}
	return data, err
}

// CheckBlobs looks for the blobs the applied record names — every managed
// target's pre-image, which its removal or a rollback restores, and what
// trail wrote, which a heal puts back — and returns those the store does
// not have, or has empty. It is cheap enough for every status check (one
// stat per blob); hashing every blob is trail fsck's.
//
// Older generations need no blob here: rolling back to one compiles its
// commit again, which puts its contents in the store, and restores the
// targets it no longer manages from the pre-images in the applied record.
func (e *Engine) CheckBlobs() ([]BlobProblem, error) {
	read := false
	probs, err := e.store.CheckBlobsOfLines(func(fn func(*state.RecordLine) error) error {
		var err error
		read, err = e.eachRecordLine(false, fn)
		return err
	})
	if read {
		return probs, err
	}
	return e.store.CheckBlobsOf(func(fn func(*kind.Record) error) error { return e.eachRecord(false, fn) })
}

// driftIndex returns the drift index an operation of the engine reads and
// updates: the one newExec gave it.
func driftIndex(x *kind.Exec) *state.Index { return x.Hashes().(*state.Index) }
