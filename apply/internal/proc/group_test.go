package proc

import (
	"os/exec"
	"slices"
	"testing"
	"time"
)

// lists records what the running children were at each rewrite of a lock.
type lists [][]Group

func (l *lists) ListChildren(children []Group) { *l = append(*l, slices.Clone(children)) }

// A child is named in the held locks by its token before it starts: a
// trail killed between the fork and learning the pid still leaves the
// token, which every process of the child carries, for recovery to find.
func TestChildNamedBeforeItStarts(t *testing.T) {
	var got lists
	HoldLock(&got)
	defer DropLock(&got)
	if err := RunChild(exec.Command("true")); err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("the lock was written %d times, want 4 (taken, before start, started, ended): %v", len(got), got)
	}
	before, started := got[1], got[2]
	if len(before) != 1 || before[0].PGID != 0 || before[0].Token == "" {
		t.Fatalf("before the child started the lock named %v, want its token alone", before)
	}
	if len(started) != 1 || started[0].PGID == 0 || started[0].Token != before[0].Token {
		t.Fatalf("once started the lock named %v, want its group and the same token %q", started, before[0].Token)
	}
	if len(got[3]) != 0 {
		t.Fatalf("after the child ended the lock named %v", got[3])
	}
}

// KillGroup finds a group named by its token alone.
func TestKillGroupByToken(t *testing.T) {
	tok := newToken()
	cmd := exec.Command("sleep", "60")
	cmd.Env = []string{runEnv + "=" + tok}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for i := 0; i < 1000 && !hasEnv(cmd.Process.Pid, []byte(runEnv+"="+tok+"\x00")); i++ {
		// Between fork and exec the child still shows this process's environment.
		time.Sleep(10 * time.Millisecond)
	}
	g := Group{Token: tok}
	if left := GroupMembers(g); !slices.Equal(left, []int{cmd.Process.Pid}) {
		cmd.Process.Kill()
		t.Fatalf("members of %v: %v, want [%d]", g, left, cmd.Process.Pid)
	}
	if err := KillGroup(g); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err == nil {
		t.Fatal("the program carrying the token was not killed")
	}
}
