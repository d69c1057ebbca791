package apply

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// DefaultStateDir is where trail keeps its state unless told otherwise.
const DefaultStateDir = "/var/lib/trail"

// Names in the state directory (see doc.go for the layout).
const (
	fileApplied     = "applied"
	fileJournal     = "journal"
	fileIndex       = "index"
	fileLock        = "lock"
	dirStore        = "store"
	dirGenerations  = "generations"
	tempSuffix      = ".tmp"
	stateDirMode    = 0o700
	stateFileMode   = 0o600
	generationWidth = 6
)

// writeAtomic replaces file with data through a temporary file and a
// rename; with durable, the data and the directory entry are synced, so
// after a crash the file is wholly old or wholly new.
func writeAtomic(file string, data []byte, durable bool) error {
	tmp := file + tempSuffix
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, stateFileMode)
	if err != nil {
		return fmt.Errorf("state: %w", err)
	}
	_, err = f.Write(data)
	if err == nil && durable {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, file)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("state: %w", err)
	}
	if durable {
		return syncDir(filepath.Dir(file))
	}
	return nil
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("state: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("state: sync %s: %w", dir, err)
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
	if _, err := os.Lstat(filepath.Join(dir, fileJournal)); err == nil {
		return nil
	}
	genDir := filepath.Join(dir, dirGenerations)
	nums, err := generationNumbers(genDir)
	if err != nil {
		return err
	}
	for i := len(nums) - 1; i >= 0; i-- {
		g, err := loadGeneration(genDir, nums[i])
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
