package apply

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"trail/apply/internal/proc"
	"trail/apply/kind"
	"trail/apply/state"
)

// A lost applied record is not a new host: once an apply succeeded with
// the state directory, every operation that needs the record refuses,
// changes nothing, and says what to do. A state directory whose only
// generations were refused is still new.
func TestMissingAppliedRefused(t *testing.T) {
	sb := newSandbox(t)
	if _, err := sb.applyErr("FILE /srv/x {x}\nFILE /srv/x {y}", "bad"); err == nil {
		t.Fatal("an invalid list was applied")
	}
	sb.apply("FILE /srv/x {x}", "A")
	before := snapshot(t, sb.root)
	os.Remove(filepath.Join(sb.e.StateDir(), state.FileApplied))
	_, err := sb.applyErr("FILE /srv/y {y}", "B")
	if !errors.Is(err, ErrStateDamaged) || !strings.Contains(err.Error(), "generation 2 (commit A) was applied") ||
		!strings.Contains(err.Error(), "restore the file from a backup") {
		t.Fatalf("apply over a lost record: %v", err)
	}
	if _, err := sb.e.Current(); !errors.Is(err, ErrStateDamaged) {
		t.Fatalf("Current over a lost record: %v", err)
	}
	if _, err := sb.e.Drift(); !errors.Is(err, ErrStateDamaged) {
		t.Fatalf("Drift over a lost record: %v", err)
	}
	if got := snapshot(t, sb.root); got != before {
		t.Fatalf("the refused apply changed the root:\n%s", diffLines(got, before))
	}
}

// Fsck finds what status cannot see cheaply, and what a killed trail
// left: a damaged journal, a process group still running, a blob that
// does not hash to its name.
func TestFsckFindsProblems(t *testing.T) {
	sb := newSandbox(t)
	sb.write("/etc/motd", "debian", 0o644)
	sb.apply("FILE /etc/motd {trail}", "A")
	rep, err := Fsck(sb.e.StateDir())
	if err != nil || !rep.OK() || rep.Applied != 1 || rep.Records != 1 || rep.Blobs < 2 {
		t.Fatalf("fsck of a whole state: %+v, %v", rep, err)
	}
	if probs, err := sb.e.CheckBlobs(); err != nil || len(probs) != 0 {
		t.Fatalf("CheckBlobs of a whole store: %v %v", probs, err)
	}

	pre := kind.HashKey([]byte("debian"))
	if err := os.WriteFile(sb.e.store.Path(pre), []byte("not debian"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(sb.e.StateDir(), state.FileJournal), []byte("{\"op\":\"begin\",\"gen\":2}\nnot json\n{}\n"), 0o600)
	sleep := exec.Command("sleep", "60")
	sleep.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { sleep.Process.Kill(); sleep.Wait() }()
	start, _, _, _ := proc.Stat(sleep.Process.Pid)
	pg := strconv.Itoa(sleep.Process.Pid)
	os.WriteFile(filepath.Join(sb.e.StateDir(), state.FileLock), []byte("pid 99999999\nsince x\nchild "+pg+" "+strconv.FormatUint(start, 10)+"\n"), 0o600)

	rep, err = Fsck(sb.e.StateDir())
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for _, p := range rep.Problems {
		if p.Fix == "" {
			t.Errorf("%s: %s: no fix given", p.Where, p.Problem)
		}
		all = append(all, p.Where+": "+p.Problem)
	}
	text := strings.Join(all, "\n")
	for _, want := range []string{
		"blob " + pre + ", needed by FILE /etc/motd (pre-image): corrupt",
		"journal: the journal of an interrupted apply is damaged",
		"process group " + pg + " (pids [" + pg + "]), started by a trail (pid 99999999) that was killed, still runs",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("fsck did not report %q; it reported:\n%s", want, text)
		}
	}
	if len(rep.Problems) != 3 {
		t.Errorf("fsck found %d problems, want 3:\n%s", len(rep.Problems), text)
	}

	// The cheap check sees a blob gone, not one damaged in place.
	os.Remove(sb.e.store.Path(pre))
	probs, err := sb.e.CheckBlobs()
	if err != nil || len(probs) != 1 || probs[0].Step != "FILE /etc/motd" || probs[0].Need != "pre-image" || probs[0].Problem != "missing" {
		t.Fatalf("CheckBlobs with the pre-image gone: %+v %v", probs, err)
	}
}

// While a trail holds the lock, fsck names it and leaves its journal
// and temporary files alone, without ever taking the lock itself.
func TestFsckSeesHolder(t *testing.T) {
	sb := newSandbox(t)
	sb.apply("FILE /srv/x {x}", "A")
	l, err := sb.e.lock()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	os.WriteFile(filepath.Join(sb.e.StateDir(), state.FileApplied+state.TempSuffix), []byte("half"), 0o600)
	rep, err := Fsck(sb.e.StateDir())
	if err != nil || rep.Holder != os.Getpid() || !rep.OK() {
		t.Fatalf("fsck while the lock is held: %+v %v", rep, err)
	}
	l.Release()
	rep, err = Fsck(sb.e.StateDir())
	if err != nil || rep.Holder != 0 || len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0].Problem, "temporary file") {
		t.Fatalf("fsck with the lock free: %+v %v", rep, err)
	}
}

// A generation record or step list a killed trail was writing leaves its
// temporary file; the next trail to take the lock removes it, so fsck no
// longer reports it, and the records themselves stay.
func TestGenerationTempsSwept(t *testing.T) {
	sb := newSandbox(t)
	sb.apply("FILE /srv/x {x}", "A")
	gens := filepath.Join(sb.e.StateDir(), state.DirGenerations)
	left := filepath.Join(gens, ".000001.json.123456"+state.TempSuffix)
	if err := os.WriteFile(left, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if rep, err := Fsck(sb.e.StateDir()); err != nil || rep.OK() {
		t.Fatalf("fsck does not see the leftover: %+v, %v", rep, err)
	}
	if _, err := sb.e.Drift(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(left); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the leftover is still there: %v", err)
	}
	if rep, err := Fsck(sb.e.StateDir()); err != nil || !rep.OK() {
		t.Fatalf("fsck after the sweep: %+v, %v", rep, err)
	}
	if g, err := sb.e.Current(); err != nil || g.Number != 1 {
		t.Fatalf("the generation after the sweep: %+v, %v", g, err)
	}
}

// What trail wrote for a USER's password is the hash of the step's own
// field, which a heal takes from the step and the store never holds: the
// store check of a status and fsck do not ask for it.
func TestUserPasswordNeedsNoBlob(t *testing.T) {
	sb := acctSandbox(t, true)
	list := anchors + "USER root password=$6$salt$given\nUSER u1 password=!\n"
	sb.apply(list, "c1")
	if probs, err := sb.e.CheckBlobs(); err != nil || len(probs) > 0 {
		t.Errorf("the store check: %v %v", probs, err)
	}
	if rep, err := Fsck(sb.opts.StateDir); err != nil || !rep.OK() {
		t.Errorf("fsck: %+v %v", rep, err)
	}
}
