package apply

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
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

// lock is the state lock: an flock(2) on the lock file, which dies with its
// holder, so a killed apply never leaves a stale lock. The holder writes
// its pid and start time into the file for the error a waiter shows.
type lock struct{ f *os.File }

func acquire(file string, timeout time.Duration) (*lock, error) {
	f, err := os.OpenFile(file, os.O_RDWR|os.O_CREATE, stateFileMode)
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
			le.PID, le.Since = holder(f)
			f.Close()
			return nil, le
		}
		time.Sleep(min(wait, time.Until(start.Add(timeout))+time.Millisecond))
		wait = min(2*wait, 100*time.Millisecond)
	}
	info := fmt.Sprintf("pid %d\nsince %s\n", os.Getpid(), time.Now().Format(time.RFC3339))
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(info), 0)
	}
	return &lock{f: f}, nil
}

// holder reads who holds the lock from the lock file.
func holder(f *os.File) (int, string) {
	buf := make([]byte, 128)
	n, _ := f.ReadAt(buf, 0)
	var pid int
	var since string
	for _, l := range strings.Split(string(buf[:n]), "\n") {
		if v, ok := strings.CutPrefix(l, "pid "); ok {
			pid, _ = strconv.Atoi(v)
		}
		if v, ok := strings.CutPrefix(l, "since "); ok {
			since = v
		}
	}
	return pid, since
}

func (l *lock) release() {
	if l == nil || l.f == nil {
		return
	}
	l.f.Truncate(0)
	l.f.Close()
	l.f = nil
}
