package state

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// noTmpfile, when set (by tests), has the store write its temporary
// files as on a file system without O_TMPFILE.
var noTmpfile bool

// procFD is whether a file with no name can be linked by its descriptor
// through /proc, as anyone may; AT_EMPTY_PATH, the other way, takes a
// privilege (CAP_DAC_READ_SEARCH) that root has.
var procFD = sync.OnceValue(func() bool {
	return unix.Access("/proc/self/fd", unix.X_OK) == nil || os.Geteuid() == 0
})

// tempFile is a file the store writes before it puts it in place (a blob
// of its own, a pack's index): one with no name (O_TMPFILE), linked into
// place once whole and durable, so that a trail killed at any point
// leaves nothing, whatever its pid becomes. Where the file system cannot,
// it is named in store/tmp by its writer's pid and flocked while it is
// written: the next trail to take the lock removes it once the lock is
// free (RemoveTemps), which no writer still running lets go of, and the
// pid says where the file system takes no flock.
type tempFile struct {
	f    *os.File
	name string // the fallback's name in store/tmp; "" when it has none
}

// newTempFile makes a temporary file in directory tmp (store/tmp), its
// fallback name starting with the pid and what.
func newTempFile(tmp, what string) (*tempFile, error) {
	if !noTmpfile && procFD() {
		fd, err := unix.Open(tmp, unix.O_RDWR|unix.O_TMPFILE|unix.O_CLOEXEC, 0o600)
		if err == nil {
			return &tempFile{f: os.NewFile(uintptr(fd), filepath.Join(tmp, what))}, nil
		}
		if err != unix.EOPNOTSUPP && err != unix.EISDIR && err != unix.EINVAL {
			return nil, fmt.Errorf("store: %w", &fs.PathError{Op: "open", Path: tmp, Err: err})
		}
	}
	for try := 0; ; try++ {
		f, err := os.CreateTemp(tmp, strconv.Itoa(pid)+"."+what+"-")
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		if lockTemp(f) {
			return &tempFile{f: f, name: f.Name()}, nil
		}
		f.Close()
		if try == 10 {
			return nil, fmt.Errorf("store: %s was removed as it was made, ten times over", f.Name())
		}
	}
}

// place links the file, whole and durable, at final; a file already
// there stays, unless the file had a name (it is renamed over it).
// exist reports that one was there.
func (t *tempFile) place(final string) (exist bool, err error) {
	if t.name != "" {
		// unix.Rename, as os.Rename would first lstat the new name (to
		// refuse a directory there, which rename(2) refuses itself).
		if err := unix.Rename(t.name, final); err != nil {
			return false, fmt.Errorf("store: %w", &os.LinkError{Op: "rename", Old: t.name, New: final, Err: err})
		}
		t.name = ""
		return false, nil
	}
	fd := int(t.f.Fd())
	err = unix.Linkat(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(fd), unix.AT_FDCWD, final, unix.AT_SYMLINK_FOLLOW)
	if err == unix.ENOENT || err == unix.EPERM {
		err = unix.Linkat(fd, "", unix.AT_FDCWD, final, unix.AT_EMPTY_PATH)
	}
	if err == unix.EEXIST {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: %w", &os.LinkError{Op: "link", Old: t.f.Name(), New: final, Err: err})
	}
	return false, nil
}

// close lets go of the file: one never placed is gone with it.
func (t *tempFile) close() {
	if t.name != "" {
		os.Remove(t.name) // under its lock, which close then lets go of
		t.name = ""
	}
	t.f.Close()
}

// lockTemp marks temporary file or directory f, just made, as its
// writer's: an flock, which the kernel lets go of when the writer is
// gone, whatever its pid becomes or the pid namespace it runs in (a pid
// alone says neither). It reports false when f was taken for a leftover
// and removed before it was marked (writerGone): the writer makes
// another. Where the file system takes no flock, the pid in f's name
// says (gone).
func lockTemp(f *os.File) bool {
	if unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) == unix.EWOULDBLOCK {
		return false
	}
	var st unix.Stat_t
	return unix.Fstat(int(f.Fd()), &st) == nil && st.Nlink > 0
}

// lockPack marks pack f, just created, as being written (lockTemp).
func lockPack(f *os.File) bool { return lockTemp(f) }

// writerGone reports whether no process writes the file or directory p
// (its lock is free) and, with remove, removes it while holding the
// lock, so that a writer marking it then finds it gone. Where the file
// system takes no flock, the pid its name starts with says.
func writerGone(p string, remove bool) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	switch err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); {
	case err == unix.EWOULDBLOCK:
		return false
	case err != nil && !gone(namePid(filepath.Base(p))):
		return false
	}
	if remove {
		os.RemoveAll(p)
	}
	return true
}

// packWriterGone is writerGone of a pack being written.
func packWriterGone(file string, remove bool) bool { return writerGone(file, remove) }

// namePid returns the pid a pack's or a temporary file's name
// starts with, or 0.
func namePid(name string) int {
	p, _, _ := strings.Cut(name, ".")
	n, err := strconv.Atoi(p)
	if err != nil || n <= 0 {
		return 0
	}
	return n
}

// gone reports whether no process has pid.
func gone(pid int) bool { return pid > 0 && unix.Kill(pid, 0) == unix.ESRCH }

// RemoveTemps removes what writers that are gone left in store/tmp (see
// tempFile, MkdirTemp) and the packs they left without an index
// (RemoveUnindexedPacks): a file or directory there is removed once no
// process holds its lock. It is run with the state lock held.
func (s *Store) RemoveTemps() {
	s.RemoveUnindexedPacks()
	dir := filepath.Join(s.Dir, "tmp")
	names, err := readNames(dir)
	if err != nil {
		return
	}
	for _, n := range names {
		writerGone(filepath.Join(dir, n), true)
	}
}

// MkdirTemp makes a private directory in store/tmp (0700, in the 0700
// state directory) for a step's work files, such as the content a FILE's
// validate command checks, which may be a secret's plaintext. It is
// locked as a temporary file is (tempFile), until the caller removes it
// and a later MkdirTemp or Close notices; so what a killed trail left
// there is removed when trail next takes the lock (RemoveTemps).
func (s *Store) MkdirTemp(what string) (string, error) {
	s.tempMu.Lock()
	defer s.tempMu.Unlock()
	s.releaseTempDirs(false)
	for try := 0; ; try++ {
		dir, err := os.MkdirTemp(filepath.Join(s.Dir, "tmp"), strconv.Itoa(pid)+"."+what+"-")
		if err != nil {
			return "", fmt.Errorf("store: %w", err)
		}
		f, err := os.Open(dir)
		if err == nil && lockTemp(f) {
			s.tempDirs = append(s.tempDirs, f)
			return dir, nil
		}
		if f != nil {
			f.Close()
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("store: %w", err)
		}
		if try == 10 {
			return "", fmt.Errorf("store: %s was removed as it was made, ten times over", dir)
		}
	}
}

// releaseTempDirs lets go of the locks of the directories MkdirTemp made
// that were removed since, or of all of them.
func (s *Store) releaseTempDirs(all bool) {
	kept := s.tempDirs[:0]
	for _, f := range s.tempDirs {
		var st unix.Stat_t
		if !all && unix.Fstat(int(f.Fd()), &st) == nil && st.Nlink > 0 {
			kept = append(kept, f)
			continue
		}
		f.Close()
	}
	clear(s.tempDirs[len(kept):])
	s.tempDirs = kept
}
