// Package atomicfile replaces a file whole: the new content is written to
// a temporary file next to it, made durable, and renamed over it, so that
// a reader — or the machine after a crash — sees the old content or the
// new one, never an empty or torn file. Every writer of a whole file in
// trail (state files, hooks, units, metrics) goes through it.
package atomicfile

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// TempSuffix ends the name of every temporary file Write uses; a file
// with it left in a directory is one a writer did not finish.
const TempSuffix = ".tmp"

// Write replaces path with data, mode perm (whatever the umask): data
// synced, renamed into place, the directory synced.
func Write(path string, data []byte, perm fs.FileMode) error {
	return write(path, perm, true, func(w io.Writer) error { _, err := w.Write(data); return err })
}

// WriteWith is Write with the content written by fill.
func WriteWith(path string, perm fs.FileMode, fill func(io.Writer) error) error {
	return write(path, perm, true, fill)
}

// WriteUnsynced is Write without the syncs, for a file that may be lost
// in a crash (a cache rebuilt when missing) but must never be read half
// written.
func WriteUnsynced(path string, data []byte, perm fs.FileMode) error {
	return write(path, perm, false, func(w io.Writer) error { _, err := w.Write(data); return err })
}

// WriteUnsyncedWith is WriteUnsynced with the content written by fill.
func WriteUnsyncedWith(path string, perm fs.FileMode, fill func(io.Writer) error) error {
	return write(path, perm, false, fill)
}

// write uses a temporary name of its own (hidden, unique, never the final
// name's extension), so that two writers never share one and a directory
// reader such as node_exporter never picks it up.
func write(path string, perm fs.FileMode, durable bool, fill func(io.Writer) error) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+strings.ReplaceAll(base, "*", "_")+".*"+TempSuffix)
	if err != nil {
		return err
	}
	tmp := f.Name()
	bw := bufio.NewWriter(f)
	err = fill(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Chmod(perm)
	}
	if err == nil && durable {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("replace %s: %w", path, err)
	}
	if durable {
		return SyncDir(dir)
	}
	return nil
}

// SyncDir makes the entries created, renamed or removed in dir durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
