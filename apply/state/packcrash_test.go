package state

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"trail/apply/kind"
)

// crashBlobs is what the crash tests store: enough small blobs for a pack.
func crashBlobs() [][]byte {
	var out [][]byte
	for i := range 300 {
		out = append(out, fmt.Appendf(nil, "content %d\n", i))
	}
	return out
}

// crashChild runs in the test's own binary, re-run by runCrash: it
// stores crashBlobs (op "flush") or runs a gc keeping what the applied
// record names (op "gc") in the state at TRAIL_TEST_PACK_DIR, killing
// itself with SIGKILL at crash point TRAIL_TEST_PACK_CRASH.
func crashChild(t *testing.T) bool {
	dir := os.Getenv("TRAIL_TEST_PACK_DIR")
	if dir == "" {
		return false
	}
	point := os.Getenv("TRAIL_TEST_PACK_CRASH")
	noTmpfile = os.Getenv("TRAIL_TEST_NO_TMPFILE") != ""
	crashPoint = func(p string) {
		if p == point {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
		}
	}
	switch os.Getenv("TRAIL_TEST_PACK_OP") {
	case "flush":
		s, err := NewStore(filepath.Join(dir, DirStore))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.PutMany(crashBlobs()); err != nil {
			t.Fatal(err)
		}
	case "gc":
		if _, err := GC(dir, 1, 0, false); err != nil {
			t.Fatal(err)
		}
	}
	return true
}

// runCrash runs op in a process killed at point and says whether it
// was; env is added to the process's environment.
func runCrash(t *testing.T, dir, op, point string, env ...string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$")
	cmd.Env = append(os.Environ(), "TRAIL_TEST_PACK_DIR="+dir, "TRAIL_TEST_PACK_OP="+op, "TRAIL_TEST_PACK_CRASH="+point)
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("%s killed at %q: %v\n%s", op, point, err, out)
	}
}

// newCrashState makes a state directory whose applied record names the
// first need of crashBlobs (none when need is 0).
func newCrashState(t *testing.T, need int) string {
	dir := filepath.Join(t.TempDir(), "state")
	if err := os.MkdirAll(filepath.Join(dir, DirGenerations), 0o700); err != nil {
		t.Fatal(err)
	}
	text := AppliedHeader + "0\n"
	for i, b := range crashBlobs()[:need] {
		text += fmt.Sprintf("FILE\t/srv/f%d\treport\tabsent\tfile content=%s mode=0644\n", i, kind.HashKey(b))
	}
	if err := os.WriteFile(filepath.Join(dir, FileApplied), []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// leftoversOnly fails unless every problem fsck finds in dir is
// something a killed trail left, which the next one removes; it returns
// how many there are.
func leftoversOnly(t *testing.T, dir, when string) int {
	t.Helper()
	rep, err := Fsck(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range rep.Problems {
		if !strings.Contains(p.Problem, "left by a trail") {
			t.Errorf("%s: fsck: %s: %s", when, p.Where, p.Problem)
		}
	}
	return len(rep.Problems)
}

// cleanLeftovers removes what a killed trail left, as the next trail to
// take the lock does (Engine.cleanStoreTemp).
func cleanLeftovers(t *testing.T, s *Store) {
	s.RemoveTemps()
}

// A flush killed at any point (while packing, with the pack written but
// not its index, everything synced but nothing renamed, the index in
// place) leaves every blob either whole and readable or not in the store,
// and nothing else where the file system takes O_TMPFILE; where it does
// not, leftovers only, which fsck names and the next trail removes. The
// store then takes the same blobs again.
func TestPackFlushKilled(t *testing.T) {
	if crashChild(t) {
		return
	}
	for _, named := range []bool{false, true} {
		var env []string
		if named {
			env = []string{"TRAIL_TEST_NO_TMPFILE=1"}
		}
		for _, point := range []string{"packing", "pack written", "synced", "index placed"} {
			packFlushKilled(t, point, named, env)
		}
	}
}

// packFlushKilled is TestPackFlushKilled killed at point.
func packFlushKilled(t *testing.T, point string, named bool, env []string) {
	dir := newCrashState(t, 0)
	runCrash(t, dir, "flush", point, env...)
	s, err := NewStore(filepath.Join(dir, DirStore))
	if err != nil {
		t.Fatal(err)
	}
	stored := 0
	for _, b := range crashBlobs() {
		k := kind.HashKey(b)
		if !s.Has(k) {
			continue
		}
		stored++
		if got, err := s.Get(k); err != nil || string(got) != string(b) {
			t.Fatalf("killed at %q: the store has %s but reads %q, %v", point, k, got, err)
		}
	}
	if want := map[bool]int{true: 300, false: 0}[point == "index placed"]; stored != want {
		t.Fatalf("killed at %q: the store has %d blobs, want %d", point, stored, want)
	}
	left := leftoversOnly(t, dir, "killed at "+point)
	if (left > 0) != (named && point != "index placed") {
		t.Errorf("named %v, killed at %q: fsck finds %d leftovers", named, point, left)
	}
	cleanLeftovers(t, s)
	if n := leftoversOnly(t, dir, "killed at "+point+", cleaned"); n > 0 {
		t.Fatalf("killed at %q: %d leftovers after the clean", point, n)
	}
	if _, err := s.PutMany(crashBlobs()); err != nil {
		t.Fatal(err)
	}
	for _, b := range crashBlobs() {
		if got, err := mustOpen(t, s.Dir).Get(kind.HashKey(b)); err != nil || string(got) != string(b) {
			t.Fatalf("killed at %q, stored again: %q, %v", point, got, err)
		}
	}
}

func mustOpen(t *testing.T, dir string) *Store {
	s, err := NewStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A gc killed while it rewrites a pack without its dead blobs (the new
// pack in place, the old one's index removed) keeps every needed blob;
// fsck finds leftovers only, and the next gc leaves exactly what is
// needed.
func TestPackRewriteKilled(t *testing.T) {
	if crashChild(t) {
		return
	}
	for _, point := range []string{"rewritten", "old index removed"} {
		dir := newCrashState(t, 100)
		s, err := NewStore(filepath.Join(dir, DirStore))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.PutMany(crashBlobs()); err != nil {
			t.Fatal(err)
		}
		runCrash(t, dir, "gc", point)
		check := func(when string) {
			t.Helper()
			s := mustOpen(t, s.Dir)
			for i, b := range crashBlobs()[:100] {
				if got, err := s.Get(kind.HashKey(b)); err != nil || string(got) != string(b) {
					t.Fatalf("%s: needed blob %d reads %q, %v", when, i, got, err)
				}
			}
		}
		check("gc killed at " + point)
		leftoversOnly(t, dir, "gc killed at "+point)
		res, err := GC(dir, 1, 0, false)
		if err != nil {
			t.Fatal(err)
		}
		check("gc killed at " + point + ", then a gc")
		cleanLeftovers(t, s)
		if n := leftoversOnly(t, dir, "after the second gc"); n > 0 {
			t.Fatalf("gc killed at %q: %d leftovers after a gc and a clean", point, n)
		}
		have := 0
		fresh := mustOpen(t, s.Dir)
		for _, b := range crashBlobs() {
			if fresh.Has(kind.HashKey(b)) {
				have++
			}
		}
		if have != 100 {
			t.Fatalf("gc killed at %q, then a gc: %d blobs left, want the 100 needed (%+v)", point, have, res)
		}
	}
}
