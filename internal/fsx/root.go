package fsx

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"golang.org/x/sys/unix"
)

// ErrSymlink is wrapped by errors about a path component that is a
// symlink where trail needs a real directory.
var ErrSymlink = errors.New("is a symlink: trail never writes through a symlink in a parent directory; manage the real path or replace the link by a directory")

// ErrNotDir is wrapped by errors about a parent component that is not a
// directory.
var ErrNotDir = errors.New("is not a directory")

// maxCached bounds the number of open directory descriptors a Root keeps.
const maxCached = 512

// Root is a directory every path is resolved under.
type Root struct {
	dir   string
	fd    int
	cache map[string]int
	// absent holds the directories found missing since the last Forget
	// or the last name this Root made: a plan of a first apply looks up
	// every new file in a directory that is not there yet, one failed
	// open each, 100,000 at 100,000 files.
	absent map[string]bool
	batch  batch
	buf    []byte              // copy buffer, reused by Stage
	out    File                // the file Stage writes, reused
	mkdirs map[string]struct{} // directories Mkdir made (Made)
	bg     *writer             // Create's background writer (Background)
	bgErr  error               // what its writes met, for Flush
	// stats holds the stats of the files Create made in the batch last
	// flushed (CreatedStat), newStats those of the batch being made.
	stats, newStats map[string]Stat
}

// Open opens dir as a root. Symlinks in dir itself are followed: the root is
// trusted, what lies under it is not.
func Open(dir string) (*Root, error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open root", Path: dir, Err: err}
	}
	return &Root{dir: dir, fd: fd, cache: make(map[string]int), absent: make(map[string]bool)}, nil
}

// Dir returns the directory the root was opened at.
func (r *Root) Dir() string { return r.dir }

// Host returns the host path of p under the root, for messages.
func (r *Root) Host(p string) string {
	if p == "/" {
		return r.dir
	}
	return strings.TrimSuffix(r.dir, "/") + p
}

// Close aborts a pending batch and closes every descriptor.
func (r *Root) Close() error {
	r.Abort()
	r.Background(false)
	r.bgErr = nil
	r.Forget()
	err := unix.Close(r.fd)
	r.fd = -1
	return err
}

// Forget closes the cached directory descriptors. Callers forget between
// operations so that a directory replaced behind their back is looked up
// anew.
func (r *Root) Forget() {
	r.wait() // the writes use the descriptors
	for _, fd := range r.cache {
		unix.Close(fd)
	}
	clear(r.cache)
	clear(r.absent)
}

// made notes that a name was made under the root: a directory found
// missing before may be there now, or be something else.
func (r *Root) made() {
	if len(r.absent) > 0 {
		clear(r.absent)
	}
}

// forgetTree drops p and everything under it from the cache, after p was
// removed or replaced.
func (r *Root) forgetTree(p string) {
	r.wait()
	for k, fd := range r.cache {
		if k == p || strings.HasPrefix(k, p+"/") {
			unix.Close(fd)
			delete(r.cache, k)
		}
	}
}

// checkPath rejects what is not an absolute clean path.
func checkPath(p string) error {
	if p == "" || p[0] != '/' || strings.Contains(p, "//") || strings.IndexByte(p, 0) >= 0 ||
		(len(p) > 1 && p[len(p)-1] == '/') {
		return fmt.Errorf("fsx: %q is not an absolute clean path", p)
	}
	// Every name between slashes, without splitting p: this runs for
	// every operation.
	for rest := p[1:]; rest != ""; {
		c, tail, _ := strings.Cut(rest, "/")
		if c == "." || c == ".." {
			return fmt.Errorf("fsx: %q is not an absolute clean path", p)
		}
		rest = tail
	}
	return nil
}

// DirFD returns a descriptor of directory p, opened without following any
// symlink. It belongs to the root's cache: do not close it.
func (r *Root) DirFD(p string) (int, error) {
	if p == "/" {
		return r.fd, nil
	}
	if fd, ok := r.cache[p]; ok {
		return fd, nil
	}
	if r.absent[p] {
		return -1, &fs.PathError{Op: "resolve", Path: p, Err: unix.ENOENT}
	}
	if err := checkPath(p); err != nil {
		return -1, err
	}
	i := strings.LastIndexByte(p, '/')
	parent := p[:i]
	if parent == "" {
		parent = "/"
	}
	pfd, err := r.DirFD(parent)
	if err != nil {
		return -1, err
	}
	fd, err := unix.Openat(pfd, p[i+1:], unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		if err == unix.ENOENT {
			r.absent[p] = true
		}
		return -1, dirErr(pfd, p, p[i+1:], err)
	}
	if len(r.cache) >= maxCached {
		r.Forget()
	}
	r.cache[p] = fd
	return fd, nil
}

// dirErr explains why directory p (name in the directory pfd) could not be
// opened. With O_DIRECTORY a symlink fails as ENOTDIR, so look again.
func dirErr(pfd int, p, name string, err error) error {
	if err == unix.ENOTDIR {
		var st unix.Stat_t
		if unix.Fstatat(pfd, name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
			err = unix.ELOOP
		}
	}
	switch err {
	case unix.ELOOP:
		return &fs.PathError{Op: "resolve", Path: p, Err: ErrSymlink}
	case unix.ENOTDIR:
		return &fs.PathError{Op: "resolve", Path: p, Err: ErrNotDir}
	}
	return &fs.PathError{Op: "resolve", Path: p, Err: err}
}

// parent returns the descriptor of p's parent directory and p's last name.
func (r *Root) parent(p string) (int, string, error) {
	if err := checkPath(p); err != nil {
		return -1, "", err
	}
	if p == "/" {
		return -1, "", errors.New("fsx: the root itself has no parent")
	}
	i := strings.LastIndexByte(p, '/')
	dir := p[:i]
	if dir == "" {
		dir = "/"
	}
	fd, err := r.DirFD(dir)
	return fd, p[i+1:], err
}

// Parent returns the directory part of p ("/" for "/etc").
func Parent(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return "/"
	}
	return p[:i]
}
