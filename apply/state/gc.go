package state

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// DefaultKeep is how many of the newest generations gc keeps whole (their
// step lists and the contents their lists name).
const DefaultKeep = 10

// GCGrace is how young a blob gc leaves alone whatever names it: a
// compile stores the contents of the commit it is about to apply without
// the state lock, and its apply names them only once it holds the lock.
const GCGrace = time.Hour

// FileStoreBytes holds the size of the store and generations in bytes, as
// the last apply or gc measured it: what trail_state_bytes reports,
// without a walk of the store on every run.
const FileStoreBytes = "state-bytes"

// GCResult is what a gc removed, or would remove with DryRun.
type GCResult struct {
	Blobs       int   `json:"blobs_removed"`
	BlobBytes   int64 `json:"blob_bytes_freed"`
	Generations []int `json:"step_lists_removed"` // generations whose step list went
	GenBytes    int64 `json:"step_list_bytes_freed"`
	KeptBlobs   int   `json:"blobs_kept"`
	StateBytes  int64 `json:"state_bytes"` // what is left
	DryRun      bool  `json:"dry_run"`
}

// Freed is the bytes gc removed in all.
func (r *GCResult) Freed() int64 { return r.BlobBytes + r.GenBytes }

// GC removes from the state directory dir what no rollback to a kept
// generation, no heal and no recovery needs: the step lists of
// generations older than the newest keep (never the applied one; their
// records stay, marked StepsPruned, for trail log, rollback by commit and
// the metrics' counters), and
// every blob that neither the applied record (pre-images and written
// contents), the journal of an interrupted apply, nor the step list of a
// kept generation names, unless it is younger than grace; a pack of such
// blobs goes whole, or is rewritten without them (sweepPacks). The caller
// holds the state lock. With dryRun it only counts. It measures the state
// whole afterwards (a stat of every blob); AutoGC, the apply's, does not.
func GC(dir string, keep int, grace time.Duration, dryRun bool) (*GCResult, error) {
	return gc(dir, keep, grace, dryRun, -1)
}

// AutoGC is GC without the measure of the state: what an apply that left
// the state at size (the running size, AddStateBytes') runs when NeedsGC
// says so. It stats only the blobs nothing needs and saves size less what
// it freed as both the state's size and what the gc left, so its cost is
// reading the kept step lists and the applied record as text and the
// store's directories, not a stat of every blob.
func AutoGC(dir string, keep int, grace time.Duration, size int64) (*GCResult, error) {
	return gc(dir, keep, grace, false, max(size, 0))
}

// gc is GC, measuring the state whole after it when size < 0, else
// taking size less what it freed for the state's size.
func gc(dir string, keep int, grace time.Duration, dryRun bool, size int64) (*GCResult, error) {
	if keep < 1 {
		return nil, fmt.Errorf("state: gc: keep %d: keep at least the newest generation", keep)
	}
	res := &GCResult{DryRun: dryRun}
	n := newNeedSet()
	applied, err := n.addApplied(filepath.Join(dir, FileApplied))
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(filepath.Join(dir, FileJournal))
	if err == nil {
		js, err := ParseJournal(FileJournal, data)
		if err != nil {
			return nil, fmt.Errorf("%w: gc removes nothing while the journal is damaged: run 'trail fsck'", err)
		}
		for _, in := range js.Intents {
			for _, k := range in.Undo.Blobs() {
				n.add(strings.TrimPrefix(k, "sha256:"))
			}
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("state: %w", err)
	}
	gd := filepath.Join(dir, DirGenerations)
	nums, err := GenerationNumbers(gd)
	if err != nil {
		return nil, err
	}
	kept := func(i int) bool { return i >= len(nums)-keep || nums[i] == applied }
	for i, g := range nums {
		if kept(i) {
			if err := n.addSteps(StepsFile(gd, g)); err != nil {
				return nil, err
			}
		}
	}
	for i, g := range nums {
		if kept(i) {
			continue
		}
		file := StepsFile(gd, g)
		fi, err := os.Lstat(file)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return res, fmt.Errorf("state: gc: %w", err)
		}
		res.GenBytes += fi.Size()
		if !dryRun {
			if err := pruneSteps(gd, g); err != nil {
				return res, err
			}
		}
		res.Generations = append(res.Generations, g)
	}
	young := time.Now().Add(-grace)
	keptBytes, err := sweep(filepath.Join(dir, DirStore, "sha256"), n, young, dryRun, size < 0, res)
	if err != nil {
		return res, fmt.Errorf("state: gc: %w", err)
	}
	loose := res.BlobBytes
	if err := sweepPacks(filepath.Join(dir, DirStore, DirPack), n, young, dryRun, res); err != nil {
		return res, fmt.Errorf("state: gc: %w", err)
	}
	packFreed := res.BlobBytes - loose
	// The flush makes what trail gc freed stay freed. An automatic gc
	// leaves it to the next flush (the next apply's): a crash before
	// brings back only what nothing needs, which the next gc removes, and
	// a syncfs here waits on every file the host has written.
	if !dryRun && size < 0 && (res.Blobs > 0 || len(res.Generations) > 0) {
		if err := syncfsAt(dir); err != nil {
			return res, err
		}
	}
	if size >= 0 {
		res.StateBytes = max(size-res.Freed(), 0)
		return res, saveStateBytes(dir, res.StateBytes, res.StateBytes)
	}
	whole, _, err := measureState(dir, keptBytes, !dryRun, true)
	if err != nil {
		return res, err
	}
	res.StateBytes = whole
	if dryRun {
		// The walk found what a gc would remove of the step lists and
		// the packs (not of the blobs of their own: sweep counted only
		// those kept).
		res.StateBytes -= res.GenBytes + packFreed
	}
	return res, nil
}

// sweep removes from the store's root (store/sha256) every blob of its own whose
// name need lacks and that is older than young, and counts into res what
// it removed (or, with dryRun, would) and kept. It reads the store's
// directories by name and stats only what it may remove, and, with sizes,
// what it keeps too, returning the kept blobs' bytes.
func sweep(root string, need *needSet, young time.Time, dryRun, sizes bool, res *GCResult) (int64, error) {
	var rd dirNames
	dirs, err := rd.read(root)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var kept int64
	for _, d := range dirs {
		sub := filepath.Join(root, d)
		names, err := rd.read(sub)
		if errors.Is(err, syscall.ENOTDIR) {
			if fi, err := os.Lstat(sub); err == nil && sizes {
				kept += fi.Size()
			}
			res.KeptBlobs++
			continue
		}
		if err != nil {
			return kept, err
		}
		for _, name := range names {
			needed := need.has(name) || len(d) != 2 || !strings.HasPrefix(name, d)
			if needed && !sizes {
				res.KeptBlobs++
				continue
			}
			p := filepath.Join(sub, name)
			fi, err := os.Lstat(p)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return kept, err
			}
			if fi.IsDir() {
				continue
			}
			if needed || fi.ModTime().After(young) {
				res.KeptBlobs++
				kept += fi.Size()
				continue
			}
			if !dryRun {
				if err := os.Remove(p); err != nil {
					return kept, err
				}
			}
			res.Blobs++
			res.BlobBytes += fi.Size()
		}
	}
	return kept, nil
}

// readNames lists the names in directory dir, unsorted, without a stat.
func readNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

// pruneSteps removes the step list of generation n after marking its
// record StepsPruned, durably: a crash between leaves a marked record with
// its list still there, which the next gc removes.
func pruneSteps(gd string, n int) error {
	g, err := LoadGeneration(gd, n)
	if err != nil {
		return fmt.Errorf("%w: gc removes no step list whose record is damaged: run 'trail fsck'", err)
	}
	if !g.StepsPruned {
		g.StepsPruned = true
		if err := SaveGeneration(gd, g); err != nil {
			return err
		}
	}
	if err := os.Remove(StepsFile(gd, n)); err != nil {
		return fmt.Errorf("state: gc: %w", err)
	}
	return nil
}

// MeasureState walks the store and the generations and returns their size
// in bytes, with what the last gc left (0 before any). It costs a walk of
// the store: callers run it after an apply that changed something or a
// gc, never on the no-op path. With write, the size is saved for
// ReadStateBytes (and trail_state_bytes); a gc saves it as what it left.
func MeasureState(dir string, write, gc bool) (size, afterGC int64, err error) {
	return measureState(dir, -1, write, gc)
}

// measureState is MeasureState with the bytes of the blobs under
// store/sha256, when blobs >= 0, counted by the caller's own walk of them
// (gc's), so that the store is not walked twice.
func measureState(dir string, blobs int64, write, gc bool) (size, afterGC int64, err error) {
	blobRoot := filepath.Join(dir, DirStore, "sha256")
	size = max(blobs, 0)
	for _, d := range []string{DirStore, DirGenerations} {
		err := filepath.WalkDir(filepath.Join(dir, d), func(p string, e fs.DirEntry, err error) error {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			if err == nil && e.IsDir() && blobs >= 0 && p == blobRoot {
				return fs.SkipDir
			}
			if err != nil || e.IsDir() {
				return err
			}
			if fi, err := e.Info(); err == nil {
				size += fi.Size()
			}
			return nil
		})
		if err != nil {
			return 0, 0, fmt.Errorf("state: %w", err)
		}
	}
	for _, f := range []string{FileApplied, FileAppliedIndex, FileIndex} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err == nil {
			size += fi.Size()
		}
	}
	_, afterGC, _ = ReadStateBytes(dir)
	if gc {
		afterGC = size
	}
	if !write {
		return size, afterGC, nil
	}
	return size, afterGC, saveStateBytes(dir, size, afterGC)
}

// AddStateBytes adds n bytes to the size MeasureState saved, measuring
// the state afresh when it never did; it returns the size and what the
// last gc left.
func AddStateBytes(dir string, n int64) (size, afterGC int64, err error) {
	size, afterGC, ok := ReadStateBytes(dir)
	if !ok {
		return MeasureState(dir, true, false)
	}
	size += n
	return size, afterGC, saveStateBytes(dir, size, afterGC)
}

// saveStateBytes writes FileStoreBytes, which ReadStateBytes reads.
func saveStateBytes(dir string, size, afterGC int64) error {
	text := strconv.FormatInt(size, 10) + " " + strconv.FormatInt(afterGC, 10) + "\n"
	return WriteAtomic(filepath.Join(dir, FileStoreBytes), []byte(text), false)
}

// ReadStateBytes returns the size MeasureState last saved and what the
// last gc left, and false when it never ran.
func ReadStateBytes(dir string) (size, afterGC int64, ok bool) {
	data, err := os.ReadFile(filepath.Join(dir, FileStoreBytes))
	if err != nil {
		return 0, 0, false
	}
	a, b, _ := strings.Cut(strings.TrimSpace(string(data)), " ")
	size, err = strconv.ParseInt(a, 10, 64)
	afterGC, _ = strconv.ParseInt(b, 10, 64)
	return size, afterGC, err == nil
}

// NeedsGC reports whether an apply that left the state at size should
// prune it: the state passed least (AutoGCMin outside tests) and at least
// doubled since what the last gc left (so a host whose needed state is
// large is not pruned on every apply).
func NeedsGC(size, afterGC, least int64) bool {
	return size > least && size > 2*afterGC
}

// AutoGCMin is the state size below which an apply never prunes.
const AutoGCMin = 256 << 20
