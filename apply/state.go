package apply

import (
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
