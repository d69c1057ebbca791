package state_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"trail/apply/kind"
	"trail/apply/state"
	"trail/stepfmt"
)

// gcState is a state directory of generations 1..len(lists), each with
// its step list; the applied record names the last list's contents and
// one pre-image each; the store holds every content and pre-image, and
// orphans no one names.
type gcState struct {
	dir   string
	lists []string
	store *state.Store
}

// newGCState makes a gcState of gens generations of about m FILE steps
// each, with a DIR step every tenth line, each list the one before with a
// few lines changed, inserted or removed (several in a row too), by seed.
func newGCState(t testing.TB, gens, m int, seed uint64) *gcState {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 1))
	dir := t.TempDir()
	store, err := state.NewStore(filepath.Join(dir, state.DirStore))
	if err != nil {
		t.Fatal(err)
	}
	gd := filepath.Join(dir, state.DirGenerations)
	if err := os.MkdirAll(gd, 0o700); err != nil {
		t.Fatal(err)
	}
	var contents [][]byte
	put := func() string {
		contents = append(contents, fmt.Appendf(nil, "content %d\n", len(contents)))
		return kind.HashKey(contents[len(contents)-1])
	}
	stepLine := func(i int) string {
		if i%10 == 0 {
			return fmt.Sprintf("DIR /srv/d%d mode=0755 owner=root group=root", i)
		}
		return fmt.Sprintf("FILE /srv/f%d %s mode=0644 owner=root group=root @main.hcl:1-4", i, put())
	}
	var lines []string
	for i := range m {
		lines = append(lines, stepLine(i))
	}
	s := &gcState{dir: dir, store: store}
	next := m
	for g := 1; g <= gens; g++ {
		if g > 1 {
			for range 1 + r.IntN(4) {
				at := r.IntN(len(lines))
				switch n := 1 + r.IntN(3); r.IntN(3) {
				case 0:
					for j := at; j < min(at+n, len(lines)); j++ {
						lines[j] = stepLine(j)
					}
				case 1:
					for range n {
						lines = slices.Insert(lines, at, stepLine(next))
						next++
					}
				default:
					lines = slices.Delete(lines, at, min(at+n, len(lines)))
				}
			}
		}
		text := "TRAIL v1 commit=c" + fmt.Sprint(g) + "\n" + strings.Join(lines, "\n") + "\n"
		s.lists = append(s.lists, text)
		if err := os.WriteFile(state.StepsFile(gd, g), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		rec, err := json.Marshal(&state.Generation{Number: g, Commit: "c" + fmt.Sprint(g), Result: state.ResultOK})
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(gd, fmt.Sprintf("%06d.json", g)), rec, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	applied := state.AppliedHeader + fmt.Sprint(gens) + "\n"
	for i, l := range lines {
		if f := strings.Fields(l); f[0] == "FILE" {
			applied += fmt.Sprintf("FILE\t/srv/f%d\treport\tfile content=%s mode=0600\tfile content=%s mode=0644\n", i, put(), f[2])
		}
	}
	if err := os.WriteFile(filepath.Join(dir, state.FileApplied), []byte(applied), 0o600); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		put()
	}
	// Written in place, unsynced: the store's layout, without a flush per
	// state (the tests make dozens).
	for _, c := range contents {
		p := store.Path(kind.HashKey(c))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, c, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// named is what a gc keeping the newest keep generations must keep: the
// keys the kept lists name, parsed, and those the applied record names.
func (s *gcState) named(t *testing.T, keep int) map[string]bool {
	t.Helper()
	need := map[string]bool{}
	for _, text := range s.lists[len(s.lists)-keep:] {
		l, errs := stepfmt.ParseString("steps", text)
		if len(errs) > 0 {
			t.Fatal(errs.Err())
		}
		for _, st := range l.Steps {
			for _, a := range st.Attrs {
				if strings.HasPrefix(a.Value, "sha256:") {
					need[a.Value] = true
				}
			}
		}
	}
	ap, err := state.LoadApplied(filepath.Join(s.dir, state.FileApplied))
	if err != nil {
		t.Fatal(err)
	}
	defer ap.Close()
	ap.Each(func(r *kind.Record) error {
		for _, k := range append(r.Origin.Blobs(), r.Wrote.Blobs()...) {
			need[k] = true
		}
		return nil
	})
	return need
}

// blobs lists the keys in the store.
func (s *gcState) blobs(t *testing.T) map[string]bool {
	t.Helper()
	have := map[string]bool{}
	root := filepath.Join(s.store.Dir, "sha256")
	dirs, _ := os.ReadDir(root)
	for _, d := range dirs {
		ents, err := os.ReadDir(filepath.Join(root, d.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			have["sha256:"+e.Name()] = true
		}
	}
	return have
}

// TestAutoGCKeepsExactlyWhatIsNamed: over random histories of step lists
// (lines changed, inserted and removed, several in a row), the automatic
// gc, which reads each kept list against the one before it, and trail gc
// leave in the store exactly the contents the kept lists name, parsed,
// and the applied record's pre-images and contents.
func TestAutoGCKeepsExactlyWhatIsNamed(t *testing.T) {
	for seed := range uint64(6) {
		for _, auto := range []bool{true, false} {
			s := newGCState(t, 14, 200, seed)
			keep := 1 + int(seed)%10
			want := s.named(t, keep)
			var res *state.GCResult
			var err error
			if auto {
				res, err = state.AutoGC(s.dir, keep, 0, 1<<30)
			} else {
				res, err = state.GC(s.dir, keep, 0, false)
			}
			if err != nil {
				t.Fatal(err)
			}
			have := s.blobs(t)
			for k := range want {
				if !have[k] {
					t.Fatalf("seed %d auto %v keep %d: gc removed %s, which a kept list or the applied record names", seed, auto, keep, k)
				}
			}
			for k := range have {
				if !want[k] {
					t.Fatalf("seed %d auto %v keep %d: gc kept %s, which nothing kept names", seed, auto, keep, k)
				}
			}
			if len(res.Generations) != 14-keep || res.KeptBlobs != len(want) {
				t.Fatalf("seed %d auto %v keep %d: %+v, want %d lists pruned and %d blobs kept", seed, auto, keep, res, 14-keep, len(want))
			}
		}
	}
}

// TestAutoGCIsProportionate: the automatic gc of a history where each
// list changes a few lines of the last allocates a few bytes per kept
// step, not a parse of every kept list: it reads the lists as text, each
// against the one before, and stats only the blobs it removes. The gc
// before, which parsed every kept list and stated every blob, allocated
// 785 bytes a kept step here; the one that read the applied record and
// each kept list whole and held the keys as strings, 86. Read a line at a
// time, with the keys as 32 bytes, it allocates about 50: the keys' map
// and the store's names, a directory at a time. The store's directories
// are read through a buffer of the gc's own (dirNames), so the count is
// the same under the race detector, which made os's pooled directory
// buffers cost about 18 bytes a kept step more (70 against 51).
func TestAutoGCIsProportionate(t *testing.T) {
	const gens, m, keep = 14, 3000, 10
	s := newGCState(t, gens, m, 7)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	res, err := state.AutoGC(s.dir, keep, 0, 1<<30)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	perStep := float64(after.TotalAlloc-before.TotalAlloc) / (keep * m)
	t.Logf("automatic gc: %.0f bytes allocated a kept step, %+v", perStep, res)
	if perStep > 65 {
		t.Fatalf("the automatic gc allocated %.0f bytes a kept step, want under 65", perStep)
	}
}

// TestAutoGCSavesWhatItLeft: the automatic gc takes the state's size from
// the caller's running size, less what it freed, as both the size and
// what the gc left, without measuring the state.
func TestAutoGCSavesWhatItLeft(t *testing.T) {
	s := newGCState(t, 4, 50, 1)
	res, err := state.AutoGC(s.dir, 2, 0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	size, after, ok := state.ReadStateBytes(s.dir)
	if !ok || size != 1<<20-res.Freed() || after != size || res.StateBytes != size || res.Freed() <= 0 {
		t.Fatalf("after the automatic gc: saved %d, %d, %v; gc %+v", size, after, ok, res)
	}
}

// TestGCRefusesACutList: a kept step list that does not end in a newline
// (cut short) makes gc remove nothing, and say so.
func TestGCRefusesACutList(t *testing.T) {
	s := newGCState(t, 3, 20, 2)
	gd := filepath.Join(s.dir, state.DirGenerations)
	text := s.lists[2]
	if err := os.WriteFile(state.StepsFile(gd, 3), []byte(text[:len(text)-30]), 0o600); err != nil {
		t.Fatal(err)
	}
	before := s.blobs(t)
	for _, auto := range []bool{true, false} {
		var err error
		if auto {
			_, err = state.AutoGC(s.dir, 1, 0, 1<<20)
		} else {
			_, err = state.GC(s.dir, 1, 0, false)
		}
		if err == nil || !strings.Contains(err.Error(), "cut short") || !strings.Contains(err.Error(), "trail fsck") {
			t.Fatalf("gc of a state with a cut step list: %v", err)
		}
		if len(s.blobs(t)) != len(before) {
			t.Fatal("gc removed blobs while a kept step list was damaged")
		}
		if _, err := os.Stat(state.StepsFile(gd, 1)); err != nil {
			t.Fatalf("gc pruned a step list while a kept one was damaged: %v", err)
		}
	}
}

// TestAutoGCKilled: an automatic gc killed at any moment (SIGKILL of a
// process running it, from as soon as it says it starts to after it is
// done) leaves every content the kept lists and the applied record name,
// and the next gc finishes the work exactly.
func TestAutoGCKilled(t *testing.T) {
	if dir := os.Getenv("TRAIL_TEST_GC_DIR"); dir != "" {
		fmt.Println("gc")
		if _, err := state.AutoGC(dir, 3, 0, 1<<30); err != nil {
			t.Fatal(err)
		}
		return
	}
	for i, delay := range []time.Duration{0, time.Millisecond, 2 * time.Millisecond, 4 * time.Millisecond, 8 * time.Millisecond, time.Second} {
		s := newGCState(t, 12, 600, uint64(i))
		want := s.named(t, 3)
		before := len(s.blobs(t))
		cmd := exec.Command(os.Args[0], "-test.run=^TestAutoGCKilled$")
		cmd.Env = append(os.Environ(), "TRAIL_TEST_GC_DIR="+s.dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if line, err := bufio.NewReader(out).ReadString('\n'); line != "gc\n" {
			t.Fatalf("the gc's process said %q, %v", line, err)
		}
		time.Sleep(delay)
		cmd.Process.Kill()
		cmd.Wait()
		have := s.blobs(t)
		gd := filepath.Join(s.dir, state.DirGenerations)
		lists, _ := filepath.Glob(filepath.Join(gd, "*.steps"))
		t.Logf("killed %v after it started: %d of %d blobs, %d of 12 step lists left", delay, len(have), before, len(lists))
		for k := range want {
			if !have[k] {
				t.Fatalf("a gc killed %v after it started removed %s, which a kept list or the applied record names", delay, k)
			}
		}
		// trail fsck finds nothing wrong but, as after any trail killed
		// while it wrote a generation's record, the record's temporary
		// file, which it says to remove.
		if err := os.Chmod(s.dir, 0o700); err != nil {
			t.Fatal(err)
		}
		rep, err := state.Fsck(s.dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range rep.Problems {
			if !strings.HasSuffix(p.Where, state.TempSuffix) || filepath.Dir(p.Where) != gd {
				t.Errorf("trail fsck after a gc killed %v after it started: %s: %s", delay, p.Where, p.Problem)
			}
		}
		if _, err := state.AutoGC(s.dir, 3, 0, 1<<30); err != nil {
			t.Fatalf("the gc after one killed %v after it started: %v", delay, err)
		}
		if have := s.blobs(t); len(have) != len(want) {
			t.Fatalf("after a gc killed %v after it started and one more, the store holds %d blobs, want the %d named", delay, len(have), len(want))
		}
		for g := 1; g <= 12; g++ {
			rec, err := state.LoadGeneration(gd, g)
			_, serr := os.Stat(state.StepsFile(gd, g))
			if err != nil || rec.StepsPruned != (g <= 9) || (serr == nil) != (g > 9) {
				t.Fatalf("after a gc killed %v after it started and one more, generation %d: pruned %v, list there %v, %v", delay, g, rec != nil && rec.StepsPruned, serr == nil, err)
			}
		}
	}
}

// TestGCDropsASecretsPlaintext: the applied record names a secret's
// plaintext by its hash (content= beside secret=age), which is no blob
// to keep: a plaintext the store holds from when the file was plain
// content goes once no kept list names it, as it did when gc parsed the
// record, while the secret's sealed pre-image stays.
func TestGCDropsASecretsPlaintext(t *testing.T) {
	for _, auto := range []bool{true, false} {
		s := newGCState(t, 3, 20, 3)
		plain, sealed := []byte("hunter2\n"), []byte("age sealed pre-image\n")
		for _, c := range [][]byte{plain, sealed} {
			p := s.store.Path(kind.HashKey(c))
			if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, c, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		f, err := os.OpenFile(filepath.Join(s.dir, state.FileApplied), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(f, "FILE\t/etc/pw\treport\tfile content=%s sealed=age mode=0600\tfile content=%s secret=age mode=0600\n",
			kind.HashKey(sealed), kind.HashKey(plain))
		f.Close()
		if auto {
			_, err = state.AutoGC(s.dir, 1, 0, 1<<30)
		} else {
			_, err = state.GC(s.dir, 1, 0, false)
		}
		if err != nil {
			t.Fatal(err)
		}
		have := s.blobs(t)
		if have[kind.HashKey(plain)] || !have[kind.HashKey(sealed)] {
			t.Fatalf("auto %v: after gc the store holds the plaintext %v and the sealed pre-image %v; want only the sealed one",
				auto, have[kind.HashKey(plain)], have[kind.HashKey(sealed)])
		}
	}
}
