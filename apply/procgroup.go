package apply

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Every external program trail runs (a tool, a command, a check) is a
// child it can account for (runChild in tool.go): it runs in its own
// process group, is killed with SIGKILL when the thread that started it
// dies (and so when trail is killed), and while it runs its process group
// is written into the state lock file beside the holder's pid. A
// grandchild (sh running sleep) outlives a killed parent, so the next
// trail, once it holds the lock, kills every process group the file still
// names before it undoes the interrupted apply: nothing trail started can
// change the machine after recovery has put it back.

// procGroup is a process group trail started: the pid of its leader, which is
// the group's id, and the leader's start time (clock ticks since boot),
// which tells the group from a later one that reuses the number.
type procGroup struct {
	pgid  int
	start uint64
}

// kids is the process-wide register of running children and of the state
// locks this process holds; each held lock file lists every running child.
// A process with several engines (tests) lists its children in all their
// locks: they all die with it, so naming one in every lock kills nothing
// that would have lived.
var kids struct {
	sync.Mutex
	live  map[int]uint64
	locks map[*lock]bool
}

// trackChild registers a started child and rewrites the held locks.
func trackChild(pid int) {
	start, _, _, _ := procStat(pid)
	kids.Lock()
	defer kids.Unlock()
	if kids.live == nil {
		kids.live = make(map[int]uint64)
	}
	kids.live[pid] = start
	writeLocksLocked()
}

// untrackChild forgets a child that has exited.
func untrackChild(pid int) {
	kids.Lock()
	defer kids.Unlock()
	delete(kids.live, pid)
	writeLocksLocked()
}

// holdLock adds l to the locks that list the running children.
func holdLock(l *lock) {
	kids.Lock()
	defer kids.Unlock()
	if kids.locks == nil {
		kids.locks = make(map[*lock]bool)
	}
	kids.locks[l] = true
	l.write(liveGroupsLocked())
}

// dropLock stops listing the children in l.
func dropLock(l *lock) {
	kids.Lock()
	defer kids.Unlock()
	delete(kids.locks, l)
}

func liveGroupsLocked() []procGroup {
	out := make([]procGroup, 0, len(kids.live))
	for pid, start := range kids.live {
		out = append(out, procGroup{pid, start})
	}
	return out
}

func writeLocksLocked() {
	g := liveGroupsLocked()
	for l := range kids.locks {
		l.write(g)
	}
}

// procStat reads the start time, process group and state of pid from
// /proc/PID/stat. ok is false when there is no such process.
func procStat(pid int) (start uint64, pgrp int, state byte, ok bool) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, 0, false
	}
	// The command name (field 2) may hold spaces and parentheses: the
	// fields that follow start after its last ')'.
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 {
		return 0, 0, 0, false
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 20 || len(f[0]) != 1 {
		return 0, 0, 0, false
	}
	pgrp, _ = strconv.Atoi(f[2])
	start, _ = strconv.ParseUint(f[19], 10, 64)
	return start, pgrp, f[0][0], true
}

// groupMembers lists the live (not zombie) processes in process group
// pgid.
func groupMembers(pgid int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, ent := range ents {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil {
			continue
		}
		if _, pg, state, ok := procStat(pid); ok && pg == pgid && state != 'Z' && state != 'X' {
			out = append(out, pid)
		}
	}
	return out
}

// groupGone bounds the wait for a killed process group to be gone: SIGKILL
// cannot be ignored, so only a process stuck in the kernel (a dead NFS
// server) outlasts it.
const groupGone = 30 * time.Second

// killGroup kills what is left of process group g, a child of a trail that
// died, and waits until none of it runs. A group whose number now belongs
// to a newer leader (the old group emptied and the number was reused) is
// not ours and is left alone.
func killGroup(g procGroup) error {
	if start, _, _, ok := procStat(g.pgid); ok && g.start != 0 && start != g.start {
		return nil
	}
	if err := unix.Kill(-g.pgid, unix.SIGKILL); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("kill process group %d: %w", g.pgid, err)
	}
	deadline := time.Now().Add(groupGone)
	for {
		left := groupMembers(g.pgid)
		if len(left) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("process group %d, started by a trail that was killed, still runs after SIGKILL (pids %v): find out what holds it (cat /proc/PID/stack), end it, then run trail again", g.pgid, left)
		}
		unix.Kill(-g.pgid, unix.SIGKILL)
		time.Sleep(10 * time.Millisecond)
	}
}
