package apply

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	sbx "trail/apply/internal/sandbox"
	"trail/apply/kind"
	"trail/apply/state"
)

// gcSandbox applies four generations of /etc/a (and /etc/b in the third)
// over an /etc/a that was there before trail.
func gcSandbox(t *testing.T) *sandbox {
	t.Helper()
	sb := newSandbox(t)
	sb.opts.gcGraceSet, sb.opts.gcGraceValue = true, 0
	sb.opts.AllowMassRemoval = true
	sb.open()
	sb.write("/etc/a", "orig-a\n", 0o644)
	sb.apply("FILE /etc/a {v1\n}", "c1")
	sb.apply("FILE /etc/a {v2\n}", "c2")
	sb.apply("FILE /etc/a {v3\n}\nFILE /etc/b {b3\n}", "c3")
	sb.apply("FILE /etc/a {v4\n}", "c4")
	return sb
}

func has(sb *sandbox, text string) bool { return sb.e.Store().Has(kind.HashKey([]byte(text))) }

// TestGCKeepsWhatRollbackNeeds: gc --keep 2 removes the step lists of
// generations 1 and 2 (their records stay, marked) and the contents only
// they named, keeps the pre-image, the applied
// contents and generation 3's; fsck finds the state whole; a rollback to
// generation 3 from its saved list (no compile putting contents back) and
// then to nothing restores the machine exactly.
func TestGCKeepsWhatRollbackNeeds(t *testing.T) {
	sb := gcSandbox(t)
	res, err := sb.e.GC(2, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Generations) != 2 || res.Generations[0] != 1 || res.Generations[1] != 2 || res.Blobs != 2 || res.Freed() <= 0 {
		t.Fatalf("gc removed %+v, want generations 1 and 2 and the blobs v1, v2", res)
	}
	for text, want := range map[string]bool{"v1\n": false, "v2\n": false, "v3\n": true, "b3\n": true, "v4\n": true, "orig-a\n": true} {
		if has(sb, text) != want {
			t.Errorf("blob of %q in store: %v, want %v", text, !want, want)
		}
	}
	rep, err := Fsck(sb.e.StateDir())
	if err != nil || !rep.OK() {
		t.Fatalf("fsck after gc: %+v %v", rep, err)
	}
	gens, err := sb.e.Generations()
	if err != nil || len(gens) != 4 || gens[1].Number != 3 || gens[1].StepsPruned || !gens[2].StepsPruned || !gens[3].StepsPruned {
		t.Fatalf("generations after gc: %v %v", gens, err)
	}
	if _, err := gens[3].Steps(); err == nil || !strings.Contains(err.Error(), "pruned by trail gc") {
		t.Fatalf("reading a pruned step list: %v", err)
	}
	l, err := gens[1].Steps()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sb.e.Apply(context.Background(), l, Meta{Commit: "c3"}); err != nil {
		t.Fatalf("rollback to generation 3 after gc: %v", err)
	}
	if sb.read("/etc/a") != "v3\n" || sb.read("/etc/b") != "b3\n" {
		t.Fatalf("after rollback: /etc/a %q /etc/b %q", sb.read("/etc/a"), sb.read("/etc/b"))
	}
	sb.apply("FILE /etc/c {c\n}", "other")
	if sb.read("/etc/a") != "orig-a\n" || sb.exists("/etc/b") {
		t.Fatalf("after removing everything: /etc/a %q, /etc/b there: %v", sb.read("/etc/a"), sb.exists("/etc/b"))
	}
	if rep, err := Fsck(sb.e.StateDir()); err != nil || !rep.OK() {
		t.Fatalf("fsck at the end: %+v %v", rep, err)
	}
}

// TestGCDryRunChangesNothing: --dry-run counts what gc would remove and
// leaves the state directory byte for byte.
func TestGCDryRunChangesNothing(t *testing.T) {
	sb := gcSandbox(t)
	before := sbx.Snapshot(t, sb.e.StateDir())
	res, err := sb.e.GC(2, true)
	if err != nil || res.Blobs != 2 || len(res.Generations) != 2 {
		t.Fatalf("dry run: %+v %v", res, err)
	}
	if after := sbx.Snapshot(t, sb.e.StateDir()); after != before {
		t.Fatalf("dry run changed the state:\n%s\nwas\n%s", after, before)
	}
}

// TestGCKeepsYoungBlobs: a blob stored within the grace period (a compile
// about to apply it) stays, whatever names it.
func TestGCKeepsYoungBlobs(t *testing.T) {
	sb := newSandbox(t)
	sb.apply("FILE /etc/a {v1\n}", "c1")
	k, err := sb.e.Store().Put([]byte("fresh\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sb.e.GC(1, false); err != nil {
		t.Fatal(err)
	}
	if !sb.e.Store().Has(k) {
		t.Fatal("gc removed a blob stored a moment ago")
	}
}

// TestStateBytes: an apply that changed something records the state's
// size; gc records what it left; the no-op path writes nothing.
func TestStateBytes(t *testing.T) {
	sb := gcSandbox(t)
	n, ok := sb.e.StateBytes()
	if !ok || n <= 0 {
		t.Fatalf("state bytes after applies: %d %v", n, ok)
	}
	file := filepath.Join(sb.e.StateDir(), state.FileStoreBytes)
	os.Remove(file)
	sb.apply("FILE /etc/a {v4\n}", "c4")
	if _, err := os.Stat(file); err == nil {
		t.Fatal("the no-op apply measured the state")
	}
	res, err := sb.e.GC(2, false)
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := sb.e.StateBytes(); !ok || n != res.StateBytes {
		t.Fatalf("state bytes after gc: %d %v, gc said %d", n, ok, res.StateBytes)
	}
}

// TestApplyPrunesWhenStateGrew: an apply that changed something prunes
// with the default keep once the state passed the threshold and doubled
// since the last gc; below the threshold it prunes nothing.
func TestApplyPrunesWhenStateGrew(t *testing.T) {
	sb := newSandbox(t)
	sb.opts.gcGraceSet, sb.opts.gcGraceValue = true, 0
	sb.opts.autoGCLeast = 1 << 40
	sb.open()
	for i := range state.DefaultKeep + 3 {
		sb.apply("FILE /etc/a {v"+strconv.Itoa(i)+"\n}", "c"+strconv.Itoa(i))
	}
	steps1 := state.StepsFile(filepath.Join(sb.e.StateDir(), state.DirGenerations), 1)
	if _, err := os.Stat(steps1); err != nil || !has(sb, "v0\n") {
		t.Fatalf("below the threshold an apply pruned: %v", err)
	}
	sb.opts.autoGCLeast = 1
	sb.open()
	sb.apply("FILE /etc/a {last\n}", "last")
	if _, err := os.Stat(steps1); err == nil || has(sb, "v0\n") || !has(sb, "v4\n") {
		t.Fatalf("the apply that passed the threshold did not prune generation 1, or pruned a kept one: %v", err)
	}
	if rep, err := Fsck(sb.e.StateDir()); err != nil || !rep.OK() {
		t.Fatalf("fsck after the automatic gc: %+v %v", rep, err)
	}
	_, after, ok := state.ReadStateBytes(sb.e.StateDir())
	if n, _ := sb.e.StateBytes(); !ok || after != n {
		t.Fatalf("after the automatic gc: state %d, after gc %d", n, after)
	}
}

// TestGCKeepsAppliedGeneration: the applied generation keeps its step
// list and contents even when newer refused applies push it out of the
// newest keep.
func TestGCKeepsAppliedGeneration(t *testing.T) {
	sb := gcSandbox(t)
	missing := "sha256:" + strings.Repeat("0", 64)
	for i := range 3 {
		if _, err := sb.applyErr("FILE /etc/a content="+missing, "bad"+strconv.Itoa(i)); err == nil {
			t.Fatal("an apply of a content the store lacks worked")
		}
	}
	gens, err := sb.e.Generations()
	if err != nil || len(gens) != 7 || gens[0].Result == ResultOK {
		t.Fatalf("generations: %v %v", gens, err)
	}
	if _, err := sb.e.GC(1, false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(state.StepsFile(filepath.Join(sb.e.StateDir(), state.DirGenerations), 4)); err != nil || !has(sb, "v4\n") || has(sb, "v3\n") {
		t.Fatalf("gc --keep 1 pruned the applied generation 4 or kept generation 3's content: %v", err)
	}
	if rep, err := Fsck(sb.e.StateDir()); err != nil || !rep.OK() {
		t.Fatalf("fsck: %+v %v", rep, err)
	}
}

// TestGCStateBytesIsWhole: the size gc reports (and saves) from its own
// walk of the store is the state measured whole, with a dry run's the
// whole less what it would free.
func TestGCStateBytesIsWhole(t *testing.T) {
	sb := gcSandbox(t)
	dir := sb.e.StateDir()
	whole, _, err := state.MeasureState(dir, false, false)
	if err != nil {
		t.Fatal(err)
	}
	dry, err := sb.e.GC(2, true)
	if err != nil {
		t.Fatal(err)
	}
	if dry.Freed() == 0 || dry.StateBytes != whole-dry.Freed() {
		t.Fatalf("dry run: state %d, freed %d, whole %d", dry.StateBytes, dry.Freed(), whole)
	}
	res, err := sb.e.GC(2, false)
	if err != nil {
		t.Fatal(err)
	}
	if whole, _, err = state.MeasureState(dir, false, false); err != nil || res.StateBytes != whole {
		t.Fatalf("gc: state %d, whole %d %v", res.StateBytes, whole, err)
	}
	if n, _ := sb.e.StateBytes(); n != whole {
		t.Fatalf("saved state bytes %d, whole %d", n, whole)
	}
}

// deletedPackHandles counts this process's descriptors and mappings of
// files under the state's store/pack that were deleted since.
func deletedPackHandles(t *testing.T, stateDir string) int {
	t.Helper()
	pdir := filepath.Join(stateDir, state.DirStore, state.DirPack) + "/"
	n := 0
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		fd := "/proc/self/fd/" + e.Name()
		if l, err := os.Readlink(fd); err == nil && strings.HasPrefix(l, pdir) {
			// A pack linked after it was made with no name (O_TMPFILE)
			// still reads "(deleted)" here: its links say.
			if fi, err := os.Stat(fd); err == nil && fi.Sys().(*syscall.Stat_t).Nlink == 0 {
				n++
			}
		}
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(maps), "\n") {
		if i := strings.Index(line, "/"); i >= 0 && strings.HasPrefix(line[i:], pdir) && strings.HasSuffix(line, " (deleted)") {
			n++
		}
	}
	return n
}

// TestGCLetsGoOfRemovedPacks: an engine kept for long (trail watch's)
// holds no descriptor or mapping of a pack its gc removed, which would
// keep the deleted file's space taken for as long as it runs.
func TestGCLetsGoOfRemovedPacks(t *testing.T) {
	sb := newSandbox(t)
	sb.opts.gcGraceSet, sb.opts.gcGraceValue = true, 0
	sb.opts.AllowMassRemoval = true
	sb.open()
	config := func(v string) string {
		var b strings.Builder
		for i := range 40 {
			b.WriteString("FILE /etc/f" + strconv.Itoa(i) + " {" + v + strconv.Itoa(i) + "\n}\n")
		}
		return b.String()
	}
	for _, v := range []string{"one", "two"} {
		// As a compile stages them: in one flush, so in a pack.
		var blobs [][]byte
		for i := range 40 {
			blobs = append(blobs, []byte(v+strconv.Itoa(i)+"\n"))
		}
		if _, err := sb.e.Store().PutMany(blobs); err != nil {
			t.Fatal(err)
		}
		sb.apply(config(v), "c-"+v)
	}
	packs, _ := filepath.Glob(filepath.Join(sb.e.StateDir(), state.DirStore, state.DirPack, "*.idx"))
	if len(packs) != 2 {
		t.Fatalf("two applies of 40 new files made packs %v, not two", packs)
	}
	res, err := sb.e.GC(1, false)
	if err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(sb.e.StateDir(), state.DirStore, state.DirPack, "*.idx")); len(left) != 1 || res.Blobs == 0 {
		t.Fatalf("gc --keep 1 left packs %v of %v, removed %d blobs", left, packs, res.Blobs)
	}
	if n := deletedPackHandles(t, sb.e.StateDir()); n != 0 {
		t.Fatalf("after the gc the engine holds %d descriptors or mappings of the pack it removed", n)
	}
	if !has(sb, "two0\n") || has(sb, "one0\n") {
		t.Fatal("after the gc the store does not have the applied contents, or still has the old")
	}
}
