package host

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"golang.org/x/sys/unix"
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

// compileStarts notes that commit is being compiled. The note is locked
// (flock) while the compile runs, so that another trail running meanwhile
// (a hook and the timer) does not take a live compile for a dead one; a
// note another live compile holds is left to it.
func (h *Host) compileStarts(commit string) {
	f, err := os.OpenFile(filepath.Join(h.Settings.state(), compilingFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		fmt.Fprintf(h.Err, "trail: state: %v\n", err)
		return
	}
	if unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) != nil {
		f.Close()
		return
	}
	data := commit + " " + time.Now().UTC().Format(time.RFC3339) + "\n"
	if err := f.Truncate(0); err == nil {
		_, err = f.WriteAt([]byte(data), 0)
	}
	if err != nil {
		fmt.Fprintf(h.Err, "trail: state: %v\n", err)
	}
	h.compiling = f
}

// compileDone removes the note of compileStarts: emptied first, so that a
// trail that opened it meanwhile finds nothing in it.
func (h *Host) compileDone() {
	f := h.compiling
	if f == nil {
		return
	}
	h.compiling = nil
	f.Truncate(0)
	if err := os.Remove(f.Name()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(h.Err, "trail: state: %v\n", err)
	}
	f.Close()
}

// diedCompiling records the failure of a commit whose compile the process
// did not survive, found by its note: one no live trail holds locked.
func (h *Host) diedCompiling() {
	p := filepath.Join(h.Settings.state(), compilingFile)
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		return
	}
	defer f.Close()
	if unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) != nil {
		return // a live compile
	}
	data, _ := io.ReadAll(f)
	commit, when, _ := strings.Cut(strings.TrimSpace(string(data)), " ")
	if commit == "" {
		return
	}
	f.Truncate(0)
	os.Remove(p)
	at, terr := time.Parse(time.RFC3339, when)
	if terr != nil {
		at = time.Now()
	}
	msg := fmt.Sprintf("trail died while compiling %s at %s (a crash the process could not survive, such as a stack overflow or running out of memory; see the journal): hooks will not try this commit again until HEAD moves; 'trail apply' tries it by hand",
		Short(commit), at.Format(time.DateTime))
	fmt.Fprintf(h.Err, "trail: %s\n", msg)
	h.failed(Failure{Commit: commit, Time: at, Error: msg}, "")
}
