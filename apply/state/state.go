package state

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"trail/internal/atomicfile"
)

// DefaultStateDir is where trail keeps its state unless told otherwise.
const DefaultStateDir = "/var/lib/trail"

// Names in the state directory (see doc.go for the layout).
const (
	FileApplied     = "applied"
	FileJournal     = "journal"
	FileIndex       = "index"
	FileLock        = "lock"
	DirStore        = "store"
	DirGenerations  = "generations"
	TempSuffix      = atomicfile.TempSuffix
	DirMode         = 0o700
	stateFileMode   = 0o600
	generationWidth = 6
)

// ReadString returns the content of file as a string, read into it
// directly: a step list or record parsed from it keeps pieces of it, and
// os.ReadFile's bytes would be a second copy of the whole.
func ReadString(file string) (string, error) {
	f, err := os.Open(file)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var b strings.Builder
	if st, err := f.Stat(); err == nil {
		b.Grow(int(st.Size()) + 1)
	}
	if _, err := io.Copy(&b, f); err != nil {
		return "", err
	}
	return b.String(), nil
}

// WriteAtomic replaces file with data; with durable, the data and the
// directory entry are synced, so after a crash the file is wholly old or
// wholly new (without, it may be lost, never torn: the index).
func WriteAtomic(file string, data []byte, durable bool) error {
	write := atomicfile.WriteUnsynced
	if durable {
		write = atomicfile.Write
	}
	if err := write(file, data, stateFileMode); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	return nil
}

func syncDir(dir string) error {
	if err := atomicfile.SyncDir(dir); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	return nil
}

// ErrStateDamaged marks an error in trail's own state directory, not on
// the machine: what trail manages, or how to restore it, cannot be known
// until an admin repairs the state (trail fsck says what is wrong).
var ErrStateDamaged = errors.New("state damaged")

// missingApplied is called when the applied record at file does not exist.
// That is a new host only if no apply ever succeeded with this state
// directory; otherwise the record was lost, and treating the host as new
// would forget every pre-image (and a later apply would take what trail
// manages for what was there before). An interrupted apply's journal
// decides for itself: its recovery reads the record next.
func missingApplied(file string) error {
	dir := filepath.Dir(file)
	if _, err := os.Lstat(filepath.Join(dir, FileJournal)); err == nil {
		return nil
	}
	genDir := filepath.Join(dir, DirGenerations)
	nums, err := GenerationNumbers(genDir)
	if err != nil {
		return err
	}
	for i := len(nums) - 1; i >= 0; i-- {
		g, err := LoadGeneration(genDir, nums[i])
		if err != nil {
			return fmt.Errorf("%w: %s is missing and %w", ErrStateDamaged, file, err)
		}
		if g.Result == ResultOK {
			return fmt.Errorf("%w: %s is missing, but generation %d (commit %s) was applied with this state directory: "+
				"trail cannot know what it manages nor what to restore, and will not take the host for a new one; "+
				"restore the file from a backup of %s and run 'trail fsck', "+
				"or to start over, managing what the next apply names as if it had never run, move %s aside",
				ErrStateDamaged, file, g.Number, g.Commit, dir, dir)
		}
	}
	return nil
}
