package apply

import (
	"context"
	"os/exec"

	"trail/apply/internal/proc"
)

// RunTool runs a program for the host outside an apply (systemctl
// enabling trail's own units at init) as the engine runs its own tools:
// under the state lock, once an interrupted apply is finished, and
// through internal/proc, which names it in the lock while it runs, so
// that nothing a trail killed meanwhile started is unknown to the next
// one. It returns what the program printed, standard output and error
// together.
func (e *Engine) RunTool(ctx context.Context, name string, args ...string) ([]byte, error) {
	lk, err := e.hold()
	if err != nil {
		return nil, err
	}
	defer lk.Release()
	return RunUnlocked(ctx, name, args...)
}

// RunUnlocked runs a program as RunTool does, in a process group of its
// own and killed with trail, but not under the state lock: for a program
// that waits on one that takes the lock itself (systemctl start of
// trail's own watcher, which applies before it is ready), which under the
// lock would wait for it for good. It is named in a lock only when this
// process holds one.
func RunUnlocked(ctx context.Context, name string, args ...string) ([]byte, error) {
	return proc.ChildOutput(exec.CommandContext(ctx, name, args...))
}
