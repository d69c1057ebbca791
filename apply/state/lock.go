package state

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"trail/apply/internal/proc"
)

// LockError says that another trail holds the state lock.
type LockError struct {
	File   string
	PID    int // 0 when the holder has not written its pid yet
	Since  string
	Waited time.Duration
}

func (e *LockError) Error() string {
	who := "another trail (pid unknown"
	if e.PID > 0 {
		who = fmt.Sprintf("another trail (pid %d", e.PID)
	}
	if e.Since != "" {
		who += ", since " + e.Since
	}
	return fmt.Sprintf("%s) holds the lock %s; waited %s: another apply is running, try again when it ends", who, e.File, e.Waited)
}

// Lock is the state lock: an flock(2) on the lock file, which dies with its
// holder, so a killed apply never leaves a stale lock. The holder writes
// its pid and start time into the file for the error a waiter shows, and
// the process group of every child it runs (internal/proc), so that the
// next holder can kill what a killed one left running.
//
// The file is opened close-on-exec, so no program trail runs inherits it;
// and it is unlocked before it is closed, because a process forked in the
// meantime (between fork and exec, by another goroutine) shares the open
// file and would otherwise keep the lock until it execs.
type Lock struct {
	f     *os.File
	since string
	id    [2]uint64 // the file's (lockID)
}

// Acquire takes the lock in file, waiting up to timeout; it kills what
// a killed holder left running (see proc) before it returns.
func Acquire(file string, timeout time.Duration) (*Lock, error) {
	f, err := os.OpenFile(file, os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, stateFileMode)
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	start := time.Now()
	wait := 5 * time.Millisecond
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("state: lock %s: %w", file, err)
		}
		if time.Since(start) >= timeout {
			le := &LockError{File: file, Waited: time.Since(start).Round(time.Millisecond)}
			le.PID, le.Since, _ = holder(f)
			f.Close()
			return nil, le
		}
		time.Sleep(min(wait, time.Until(start.Add(timeout))+time.Millisecond))
		wait = min(2*wait, 100*time.Millisecond)
	}
	l := &Lock{f: f, since: time.Now().Format(time.RFC3339)}
	// A holder that released the lock emptied the file: process groups
	// still named in it belong to a trail that was killed.
	pid, _, left := holder(f)
	for _, g := range left {
		if err := proc.KillGroup(g); err != nil {
			// Unlocked as found, so that the next try knows them too.
			unix.Flock(int(f.Fd()), unix.LOCK_UN)
			f.Close()
			return nil, fmt.Errorf("state: lock %s: the trail that held it (pid %d) was killed while it ran a program: %w", file, pid, err)
		}
	}
	proc.HoldLock(l)
	l.id = lockID(f)
	holding.Lock()
	holding.locks[l.id]++
	holding.Unlock()
	return l, nil
}

// holding counts the state locks this process holds, by their files'
// device and inode: what only the lock's holder writes (the applied
// record's index, see LoadApplied) a reader without it leaves alone.
var holding = struct {
	sync.Mutex
	locks map[[2]uint64]int
}{locks: map[[2]uint64]int{}}

// lockID names the lock file f by its device and inode.
func lockID(f *os.File) [2]uint64 {
	var st unix.Stat_t
	if unix.Fstat(int(f.Fd()), &st) != nil {
		return [2]uint64{}
	}
	return [2]uint64{st.Dev, st.Ino}
}

// holdsLock reports whether this process holds the state lock of state
// directory dir.
func holdsLock(dir string) bool {
	var st unix.Stat_t
	if unix.Stat(filepath.Join(dir, FileLock), &st) != nil {
		return false
	}
	holding.Lock()
	defer holding.Unlock()
	return holding.locks[[2]uint64{st.Dev, st.Ino}] > 0
}

// ListChildren records the holder and its running children in the lock
// file; proc calls it when the lock is taken and as children start and
// end.
func (l *Lock) ListChildren(children []proc.Group) {
	var b strings.Builder
	fmt.Fprintf(&b, "pid %d\nsince %s\n", os.Getpid(), l.since)
	for _, g := range children {
		fmt.Fprintf(&b, "child %d %d %s\n", g.PGID, g.Start, g.Token)
	}
	if _, err := l.f.WriteAt([]byte(b.String()), 0); err == nil {
		l.f.Truncate(int64(b.Len()))
	}
}

// holder reads who holds the lock from the lock file, and the process
// groups of the children it runs.
func holder(f *os.File) (int, string, []proc.Group) {
	buf := make([]byte, 4096)
	n, _ := f.ReadAt(buf, 0)
	var pid int
	var since string
	var kids []proc.Group
	for _, l := range strings.Split(string(buf[:n]), "\n") {
		if v, ok := strings.CutPrefix(l, "pid "); ok {
			pid, _ = strconv.Atoi(v)
		}
		if v, ok := strings.CutPrefix(l, "since "); ok {
			since = v
		}
		if v, ok := strings.CutPrefix(l, "child "); ok {
			f := strings.Fields(v)
			if len(f) < 2 {
				continue
			}
			pg, err := strconv.Atoi(f[0])
			st, _ := strconv.ParseUint(f[1], 10, 64)
			g := proc.Group{PGID: pg, Start: st}
			if len(f) > 2 {
				g.Token = f[2]
			}
			// A child named before it started has no group yet (0):
			// its token alone finds it.
			if err == nil && (pg > 1 || pg == 0 && g.Token != "") {
				kids = append(kids, g)
			}
		}
	}
	return pid, since, kids
}

// Release empties the lock file, unlocks it, then closes it.
func (l *Lock) Release() {
	if l == nil || l.f == nil {
		return
	}
	proc.DropLock(l)
	holding.Lock()
	if holding.locks[l.id]--; holding.locks[l.id] <= 0 {
		delete(holding.locks, l.id)
	}
	holding.Unlock()
	l.f.Truncate(0)
	unix.Flock(int(l.f.Fd()), unix.LOCK_UN)
	l.f.Close()
	l.f = nil
}
