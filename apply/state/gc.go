package state

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"trail/apply/kind"
	"trail/stepfmt"
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
// kept generation names, unless it is younger than grace. The caller
// holds the state lock. With dryRun it only counts.
func GC(dir string, keep int, grace time.Duration, dryRun bool) (*GCResult, error) {
	if keep < 1 {
		return nil, fmt.Errorf("state: gc: keep %d: keep at least the newest generation", keep)
	}
	res := &GCResult{DryRun: dryRun}
	need := map[string]bool{}
	ap, err := LoadApplied(filepath.Join(dir, FileApplied))
	if err != nil {
		return nil, err
	}
	err = ap.Each(func(r *kind.Record) error {
		for _, k := range append(r.Origin.Blobs(), r.Wrote.Blobs()...) {
			need[k] = true
		}
		return nil
	})
	ap.Close()
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
				need[k] = true
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
	for i, n := range nums {
		if i >= len(nums)-keep || n == ap.Generation {
			if err := stepBlobs(StepsFile(gd, n), need); err != nil {
				return nil, err
			}
			continue
		}
		file := StepsFile(gd, n)
		fi, err := os.Lstat(file)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return res, fmt.Errorf("state: gc: %w", err)
		}
		res.GenBytes += fi.Size()
		if !dryRun {
			if err := pruneSteps(gd, n); err != nil {
				return res, err
			}
		}
		res.Generations = append(res.Generations, n)
	}
	young := time.Now().Add(-grace)
	root := filepath.Join(dir, DirStore, "sha256")
	var kept int64
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		key := "sha256:" + d.Name()
		if need[key] || fi.ModTime().After(young) || filepath.Base(filepath.Dir(p)) != d.Name()[:min(2, len(d.Name()))] {
			res.KeptBlobs++
			kept += fi.Size()
			return nil
		}
		if !dryRun {
			if err := os.Remove(p); err != nil {
				return err
			}
		}
		res.Blobs++
		res.BlobBytes += fi.Size()
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("state: gc: %w", err)
	}
	if !dryRun && (res.Blobs > 0 || len(res.Generations) > 0) {
		if err := syncfsAt(dir); err != nil {
			return res, err
		}
	}
	size, _, err := measureState(dir, kept, !dryRun, true)
	if err != nil {
		return res, err
	}
	res.StateBytes = size
	if dryRun {
		res.StateBytes -= res.GenBytes
	}
	return res, nil
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

// stepBlobs adds the store keys step list file names to need; a list
// that is missing (an apply interrupted before it saved it) names none.
func stepBlobs(file string, need map[string]bool) error {
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("state: %w", err)
	}
	l, errs := stepfmt.Parse(file, data)
	if len(errs) > 0 {
		return fmt.Errorf("%w: gc removes nothing while a kept step list is damaged: run 'trail fsck'", errs.Err())
	}
	for _, s := range l.Steps {
		for _, a := range s.Attrs {
			if strings.HasPrefix(a.Value, "sha256:") {
				need[a.Value] = true
			}
		}
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
	for _, f := range []string{FileApplied, FileIndex} {
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
