package apply

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	sbx "trail/apply/internal/sandbox"
	"trail/stepfmt"
)

// sandbox is a root with its own /etc/passwd and /etc/group, and a state
// directory, both under t.TempDir().
type sandbox struct {
	t     *testing.T
	root  string
	state string
	e     *Engine
	opts  Options
}

func newSandbox(t *testing.T) *sandbox {
	t.Helper()
	sb := &sandbox{t: t, root: sbx.NewRoot(t).Dir, state: t.TempDir()}
	sb.opts = Options{Root: sb.root, StateDir: filepath.Join(sb.state, "trail")}
	sb.open()
	return sb
}

func (sb *sandbox) open() {
	sb.t.Helper()
	if sb.e != nil {
		sb.e.Close()
	}
	e, err := Open(sb.opts)
	if err != nil {
		sb.t.Fatal(err)
	}
	sb.e = e
	sb.t.Cleanup(func() { e.Close() })
}

// fs is the sandbox's root as package sandbox reads and writes it.
func (sb *sandbox) fs() *sbx.Root { return sbx.At(sb.t, sb.root) }

func (sb *sandbox) host(p string) string { return sb.fs().Host(p) }
func (sb *sandbox) write(p, content string, mode os.FileMode) {
	sb.t.Helper()
	sb.fs().Write(p, content, mode)
}
func (sb *sandbox) read(p string) string          { sb.t.Helper(); return sb.fs().Read(p) }
func (sb *sandbox) stat(p string) *syscall.Stat_t { sb.t.Helper(); return sb.fs().Stat(p) }
func (sb *sandbox) exists(p string) bool          { return sb.fs().Exists(p) }

// list parses steps written in the step language, where {text} stands for
// the store key of text (which is put in the store).
func (sb *sandbox) list(text string) *stepfmt.List {
	sb.t.Helper()
	return listIn(sb.t, sb.e.Store(), text)
}

func listIn(t testing.TB, st *Store, text string) *stepfmt.List {
	t.Helper()
	return sbx.List(t, st.Put, text)
}

func (sb *sandbox) apply(text, commit string) *Generation {
	sb.t.Helper()
	g, err := sb.e.Apply(context.Background(), sb.list(text), Meta{Commit: commit})
	if err != nil {
		sb.t.Fatalf("apply %s: %v", commit, err)
	}
	return g
}

func (sb *sandbox) applyErr(text, commit string) (*Generation, error) {
	sb.t.Helper()
	return sb.e.Apply(context.Background(), sb.list(text), Meta{Commit: commit})
}

var (
	snapshot = sbx.Snapshot
	mtimes   = sbx.Mtimes
)

// events collects what an engine reports.
type events []Event

func (ev *events) add(e Event) { *ev = append(*ev, e) }

func (ev events) of(typ EventType) []Event {
	var out []Event
	for _, e := range ev {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

func stepsText(l *stepfmt.List) []byte { return stepfmt.Format(l) }

// accountFiles are the files the shadow tools change.
var accountFiles = sbx.AccountFiles

// acctSandbox is a sandbox whose root also holds /etc/shadow and
// /etc/gshadow, for the shadow tools (see sandbox.Root.WithShadow).
func acctSandbox(t *testing.T, defs bool) *sandbox {
	t.Helper()
	sb := newSandbox(t)
	sb.fs().WithShadow(defs)
	return sb
}

func (sb *sandbox) removeToolFiles()            { sb.fs().RemoveToolFiles() }
func (sb *sandbox) accounts() map[string]string { sb.t.Helper(); return sb.fs().Accounts() }

// Two unrelated steps keep the removal of one account step under the
// mass-removal guard.
const anchors = "DIR /srv/a\nDIR /srv/b\n"

// newDebSandbox is a sandbox on a Debian root (sandbox.Root.DebRoot)
// that may remove everything it manages.
func newDebSandbox(t *testing.T) *sandbox {
	sb := newSandbox(t)
	sb.fs().DebRoot()
	sb.opts.AllowMassRemoval = true
	sb.open()
	return sb
}
