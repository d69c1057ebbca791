// Package engine puts an engine on a sandbox root, for the tests of the
// step kinds: they apply step lists through the engine, as trail does, and
// look at the root from outside. (The engine's own tests cannot import
// it, as it imports the engine; they build theirs on package sandbox.)
package engine

import (
	"context"
	"path/filepath"
	"testing"

	"trail/apply"
	"trail/apply/internal/sandbox"
	"trail/apply/kind"
	"trail/apply/state"
	"trail/internal/fsx"
	"trail/stepfmt"
)

// Sandbox is a root (see sandbox.NewRoot) and an engine applying to it,
// with its state directory under t.TempDir().
type Sandbox struct {
	*sandbox.Root
	T     *testing.T
	State string
	Opts  apply.Options
	E     *apply.Engine
}

// New makes a sandbox and opens its engine.
func New(t *testing.T) *Sandbox {
	t.Helper()
	sb := &Sandbox{Root: sandbox.NewRoot(t), T: t, State: t.TempDir()}
	sb.Opts = apply.Options{Root: sb.Dir, StateDir: filepath.Join(sb.State, "trail")}
	sb.Open()
	return sb
}

// NewAccounts is New on a root fit for the shadow tools (see
// sandbox.Root.WithShadow).
func NewAccounts(t *testing.T, defs bool) *Sandbox {
	t.Helper()
	sb := New(t)
	sb.WithShadow(defs)
	return sb
}

// Anchors are two unrelated steps that keep the removal of one step of a
// list under the mass-removal guard.
const Anchors = "DIR /srv/a\nDIR /srv/b\n"

// NewDeb is New on a Debian root (sandbox.Root.DebRoot) that may remove
// everything it manages.
func NewDeb(t *testing.T) *Sandbox {
	t.Helper()
	sb := New(t)
	sb.DebRoot()
	sb.Opts.AllowMassRemoval = true
	sb.Open()
	return sb
}

// Origin returns the origin image the applied record keeps for the
// target of kind k.
func (sb *Sandbox) Origin(k stepfmt.Kind, target string) string {
	sb.T.Helper()
	a, err := state.LoadApplied(filepath.Join(sb.E.StateDir(), state.FileApplied))
	if err != nil {
		sb.T.Fatal(err)
	}
	defer a.Close()
	if r := a.Get(stepfmt.ID{Kind: k, Target: target}); r != nil {
		return r.Origin.String()
	}
	sb.T.Fatalf("no record of %s %s", k, target)
	return ""
}

// Open opens the engine again with Opts (after the test changed them).
func (sb *Sandbox) Open() {
	sb.T.Helper()
	if sb.E != nil {
		sb.E.Close()
	}
	e, err := apply.Open(sb.Opts)
	if err != nil {
		sb.T.Fatal(err)
	}
	sb.E = e
	sb.T.Cleanup(func() { e.Close() })
}

// Exec returns an Exec on the sandbox's root and store, for calling a
// kind's code directly (a shadow tool run by hand, the account locks).
func (sb *Sandbox) Exec() *kind.Exec {
	sb.T.Helper()
	root, err := fsx.Open(sb.Dir)
	if err != nil {
		sb.T.Fatal(err)
	}
	sb.T.Cleanup(func() { root.Close() })
	return kind.NewExec(root, sb.E.Store(), state.LoadIndex(filepath.Join(sb.T.TempDir(), "index")))
}

// List parses steps, {text} standing for the store key of text.
func (sb *Sandbox) List(text string) *stepfmt.List {
	sb.T.Helper()
	return sandbox.List(sb.T, sb.E.Store().Put, text)
}

// Apply applies text as commit, failing the test when it fails.
func (sb *Sandbox) Apply(text, commit string) *apply.Generation {
	sb.T.Helper()
	g, err := sb.ApplyErr(text, commit)
	if err != nil {
		sb.T.Fatalf("apply %s: %v", commit, err)
	}
	return g
}

// ApplyErr applies text as commit.
func (sb *Sandbox) ApplyErr(text, commit string) (*apply.Generation, error) {
	sb.T.Helper()
	return sb.E.Apply(context.Background(), sb.List(text), apply.Meta{Commit: commit})
}

// Record reopens the engine reporting to the returned Events.
func (sb *Sandbox) Record() *Events {
	sb.T.Helper()
	ev := &Events{}
	sb.Opts.OnEvent = ev.Add
	sb.Open()
	return ev
}

// Events collects what an engine reports (set Opts.OnEvent to its Add).
type Events []apply.Event

// Add records e.
func (ev *Events) Add(e apply.Event) { *ev = append(*ev, e) }

// Of returns the events of type typ.
func (ev Events) Of(typ apply.EventType) []apply.Event {
	var out []apply.Event
	for _, e := range ev {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}
