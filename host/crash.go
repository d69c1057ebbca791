package host

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"
)

// compilingFile names, in the state directory, the commit being compiled.
// It is written before a compile and removed after it, so that a process
// that died in between (a fatal error such as a stack overflow, which no
// recover catches, or the OOM killer) is found by the next run and the
// commit is recorded as failed instead of crashing every hook again. An
// apply has its own journal, which the engine recovers from.
const compilingFile = "compiling"

// Apply compiles the commit, plans it against the applied record and
// applies it. With the commit already applied it does nothing and reads
// nothing more than HEAD and the applied record. A panic anywhere in the
// compile or the apply is recovered here and recorded as a failure of the
// commit, as a broken config is: status is critical, and hooks do not try
// the commit again until HEAD moves.
func (h *Host) Apply(ctx context.Context, o ApplyOptions) (out *Outcome, err error) {
	h.attempt = ""
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		commit := h.attempt
		h.applying = false
		h.compileDone()
		stack := string(debug.Stack())
		fmt.Fprintf(h.Err, "trail: panic: %v\n%s", p, stack)
		err = fmt.Errorf("trail crashed on %s (panic: %v): the failure is recorded and hooks will not try this commit again until HEAD moves; please report it with the stack trace above", Short(commit), p)
		if commit != "" {
			h.failed(Failure{Commit: commit, Time: time.Now(), Error: err.Error()}, "")
		}
		if out == nil {
			out = &Outcome{Commit: commit}
		}
	}()
	return h.applyCommit(ctx, o)
}

// compileStarts notes that commit is being compiled.
func (h *Host) compileStarts(commit string) {
	data := commit + " " + time.Now().UTC().Format(time.RFC3339) + "\n"
	if err := os.WriteFile(filepath.Join(h.Settings.state(), compilingFile), []byte(data), 0o600); err != nil {
		fmt.Fprintf(h.Err, "trail: state: %v\n", err)
	}
}

// compileDone removes the note of compileStarts.
func (h *Host) compileDone() {
	if err := os.Remove(filepath.Join(h.Settings.state(), compilingFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(h.Err, "trail: state: %v\n", err)
	}
}

// diedCompiling records the failure of a commit whose compile the process
// did not survive, found by its note.
func (h *Host) diedCompiling() {
	p := filepath.Join(h.Settings.state(), compilingFile)
	data, err := os.ReadFile(p)
	if err != nil {
		return
	}
	commit, when, _ := strings.Cut(strings.TrimSpace(string(data)), " ")
	at, terr := time.Parse(time.RFC3339, when)
	if terr != nil {
		at = time.Now()
	}
	h.compileDone()
	if commit == "" {
		return
	}
	msg := fmt.Sprintf("trail died while compiling %s at %s (a crash the process could not survive, such as a stack overflow or running out of memory; see the journal): hooks will not try this commit again until HEAD moves; 'trail apply' tries it by hand",
		Short(commit), at.Format(time.DateTime))
	fmt.Fprintf(h.Err, "trail: %s\n", msg)
	h.failed(Failure{Commit: commit, Time: at, Error: msg}, "")
}
