// Package proc runs the programs trail starts (tools, commands, checks)
// so that none outlives a killed trail.
//
// Every external program trail runs (a tool, a command, a check) is a
// child it can account for (RunChild in tool.go): it runs in its own
// process group, is killed with SIGKILL when the thread that started it
// dies (and so when trail is killed), carries in its environment a token
// of its own (TRAIL_RUN), which its descendants inherit, and its token is
// written into the state lock file beside the holder's pid before it
// starts, its process group once it has (a trail killed in between
// leaves the token, which finds the child all the same). A grandchild (sh running sleep) outlives a
// killed parent, and some leave the group (apt-get runs dpkg in a session
// of its own, on a pseudo-terminal), so the next trail, once it holds the
// lock, kills every process still in a group the file names or carrying
// one of its tokens before it undoes the interrupted apply: nothing trail
// started can change the machine after recovery has put it back. A
// process a finished child left running (a daemon a command started)
// carries that child's token, which no lock names any more: it is left
// alone.
package proc

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// runEnv is the environment variable that carries a child's token.
const runEnv = "TRAIL_RUN"

// Group is a program trail started: the pid of its leader, which is
// the process group's id, the leader's start time (clock ticks since
// boot), which tells the group from a later one that reuses the number,
// and the token in its environment.
type Group struct {
	PGID  int
	Start uint64
	Token string
}

// String names g in messages: by its process group, or by its token
// when it was named before it started.
func (g Group) String() string {
	if g.PGID == 0 {
		return "a program carrying " + runEnv + "=" + g.Token
	}
	return "process group " + strconv.Itoa(g.PGID)
}

// kids is the process-wide register of running children and of the state
// locks this process holds; each held lock file lists every running child.
// A process with several engines (tests) lists its children in all their
// locks: they all die with it, so naming one in every lock kills nothing
// that would have lived.
var kids struct {
	sync.Mutex
	live  map[string]Group // by token
	locks map[ChildList]bool
	seq   int
	self  string // this process's pid and start time, the tokens' prefix
}

// newToken returns a token no other child of any trail carries: this
// process's pid and start time, and a sequence number.
func newToken() string {
	kids.Lock()
	defer kids.Unlock()
	if kids.self == "" {
		start, _, _, _ := Stat(os.Getpid())
		kids.self = strconv.Itoa(os.Getpid()) + "." + strconv.FormatUint(start, 10)
	}
	kids.seq++
	return kids.self + "." + strconv.Itoa(kids.seq)
}

// trackChild registers a child under its token and rewrites the held
// locks. RunChild calls it twice: with the token alone before the child
// starts, so that a trail killed before the child's pid is known still
// names a token every process of it carries, and with the pid once
// started.
func trackChild(g Group) {
	if g.PGID != 0 {
		g.Start, _, _, _ = Stat(g.PGID)
	}
	kids.Lock()
	defer kids.Unlock()
	if kids.live == nil {
		kids.live = make(map[string]Group)
	}
	kids.live[g.Token] = g
	writeLocksLocked()
}

// untrackChild forgets a child that has exited.
func untrackChild(token string) {
	kids.Lock()
	defer kids.Unlock()
	delete(kids.live, token)
	writeLocksLocked()
}

// ChildList is a held lock file, which lists the running children.
type ChildList interface {
	ListChildren(children []Group)
}

// HoldLock adds l to the locks that list the running children.
func HoldLock(l ChildList) {
	kids.Lock()
	defer kids.Unlock()
	if kids.locks == nil {
		kids.locks = make(map[ChildList]bool)
	}
	kids.locks[l] = true
	l.ListChildren(liveGroupsLocked())
}

// DropLock stops listing the children in l.
func DropLock(l ChildList) {
	kids.Lock()
	defer kids.Unlock()
	delete(kids.locks, l)
}

func liveGroupsLocked() []Group {
	out := make([]Group, 0, len(kids.live))
	for _, g := range kids.live {
		out = append(out, g)
	}
	return out
}

func writeLocksLocked() {
	g := liveGroupsLocked()
	for l := range kids.locks {
		l.ListChildren(g)
	}
}

// Stat reads the start time, process group and state of pid from
// /proc/PID/stat. ok is false when there is no such process.
func Stat(pid int) (start uint64, pgrp int, state byte, ok bool) {
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

// GroupMembers lists the live (not zombie) processes of g: those in its
// process group (unless the number now belongs to a later leader) and
// those carrying its token.
func GroupMembers(g Group) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	ours := g.PGID > 1
	if start, _, _, ok := Stat(g.PGID); ok && g.Start != 0 && start != g.Start {
		ours = false
	}
	var mark []byte
	if g.Token != "" {
		mark = []byte(runEnv + "=" + g.Token + "\x00")
	}
	var out []int
	for _, ent := range ents {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil {
			continue
		}
		_, pg, state, ok := Stat(pid)
		if !ok || state == 'Z' || state == 'X' {
			continue
		}
		if ours && pg == g.PGID || mark != nil && hasEnv(pid, mark) {
			out = append(out, pid)
		}
	}
	return out
}

// hasEnv reports whether the environment of pid holds the entry mark
// ("NAME=value\x00").
func hasEnv(pid int, mark []byte) bool {
	env, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	if err != nil {
		return false
	}
	return bytes.HasPrefix(env, mark) || bytes.Contains(env, append([]byte{0}, mark...))
}

// groupGone bounds the wait for killed processes to be gone: SIGKILL
// cannot be ignored, so only a process stuck in the kernel (a dead NFS
// server) outlasts it.
const groupGone = 30 * time.Second

// KillGroup kills what is left of g, a child of a trail that died, with
// its descendants, and waits until none of it runs.
func KillGroup(g Group) error {
	deadline := time.Now().Add(groupGone)
	for {
		left := GroupMembers(g)
		if len(left) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%v, started by a trail that was killed, still runs after SIGKILL (pids %v): find out what holds it (cat /proc/PID/stack), end it, then run trail again", g, left)
		}
		for _, pid := range left {
			unix.Kill(pid, unix.SIGKILL)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
