package fsx

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// Type is the type of a file-system object.
type Type uint8

// The object types trail distinguishes.
const (
	Regular Type = iota + 1
	Dir
	Symlink
	Other
)

func (t Type) String() string {
	switch t {
	case Regular:
		return "file"
	case Dir:
		return "directory"
	case Symlink:
		return "symlink"
	}
	return "special file"
}

// Stat is what Lstat reports of an object.
type Stat struct {
	Type     Type
	Mode     uint32 // permission bits with setuid, setgid and sticky (07777)
	UID, GID uint32
	Size     int64
	Dev, Ino uint64
	Mtime    int64 // nanoseconds since the epoch
	Ctime    int64
}

func fromUnix(st *unix.Stat_t) Stat {
	s := Stat{
		Mode: st.Mode & 0o7777, UID: st.Uid, GID: st.Gid, Size: st.Size,
		Dev: st.Dev, Ino: st.Ino,
		Mtime: st.Mtim.Sec*1e9 + st.Mtim.Nsec, Ctime: st.Ctim.Sec*1e9 + st.Ctim.Nsec,
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		s.Type = Regular
	case unix.S_IFDIR:
		s.Type = Dir
	case unix.S_IFLNK:
		s.Type = Symlink
	default:
		s.Type = Other
	}
	return s
}

func pathErr(op, p string, err error) error {
	if err == nil {
		return nil
	}
	return &fs.PathError{Op: op, Path: p, Err: err}
}

// Lstat describes p itself (a symlink is not followed). A missing p or a
// missing parent is an error satisfying errors.Is(err, fs.ErrNotExist).
func (r *Root) Lstat(p string) (Stat, error) {
	if p == "/" {
		var st unix.Stat_t
		if err := unix.Fstat(r.fd, &st); err != nil {
			return Stat{}, pathErr("lstat", p, err)
		}
		return fromUnix(&st), nil
	}
	dfd, name, err := r.parent(p)
	if err != nil {
		return Stat{}, err
	}
	var st unix.Stat_t
	if err := unix.Fstatat(dfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return Stat{}, pathErr("lstat", p, err)
	}
	return fromUnix(&st), nil
}

// OpenFile opens the regular file p for reading, refusing a symlink or any
// other kind of object.
func (r *Root) OpenFile(p string) (*os.File, error) {
	fd, err := r.openRegular(p)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), r.Host(p)), nil
}

// OpenReader opens the regular file p for reading, as OpenFile does, as a
// File: the drift check and the pre-image capture read many files.
func (r *Root) OpenReader(p string) (*File, error) {
	fd, err := r.openRegular(p)
	if err != nil {
		return nil, err
	}
	return &File{fd: fd, path: r.Host(p)}, nil
}

// openRegular opens the regular file p read-only and returns its
// descriptor, refusing a symlink or any other kind of object.
func (r *Root) openRegular(p string) (int, error) {
	dfd, name, err := r.parent(p)
	if err != nil {
		return -1, err
	}
	// O_NONBLOCK: opening a fifo must not wait for a writer; it is refused
	// below, and a regular file's reads ignore the flag.
	fd, err := unix.Openat(dfd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		if err == unix.ELOOP {
			return -1, pathErr("open", p, errors.New("is a symlink, not a file"))
		}
		return -1, pathErr("open", p, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		if err == nil {
			err = errors.New("is not a regular file")
		}
		return -1, pathErr("open", p, err)
	}
	return fd, nil
}

// File reads and writes a regular file by its descriptor alone: an
// *os.File would ask the file's flags and try to register it with the
// poller (and switch it to non-blocking and back), system calls more for
// each file a drift check, a capture or the store reads or writes.
type File struct {
	fd   int
	path string // for errors
}

// NewFile is a File of the open descriptor fd of the file at path.
func NewFile(fd int, path string) File { return File{fd: fd, path: path} }

// Read reads from the file; at its end it returns io.EOF.
func (f *File) Read(b []byte) (int, error) {
	for {
		n, err := unix.Read(f.fd, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, &fs.PathError{Op: "read", Path: f.path, Err: err}
		}
		if n == 0 && len(b) > 0 {
			return 0, io.EOF
		}
		return n, nil
	}
}

// Write writes all of b, as io.Writer asks.
func (f *File) Write(b []byte) (int, error) {
	done := 0
	for done < len(b) {
		n, err := unix.Write(f.fd, b[done:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return done, &fs.PathError{Op: "write", Path: f.path, Err: err}
		}
		if n == 0 {
			return done, io.ErrShortWrite
		}
		done += n
	}
	return done, nil
}

// Close closes the file.
func (f *File) Close() error {
	if f.fd < 0 {
		return os.ErrClosed
	}
	err := unix.Close(f.fd)
	f.fd = -1
	if err != nil {
		return &fs.PathError{Op: "close", Path: f.path, Err: err}
	}
	return nil
}

// ReadFile reads the regular file p.
func (r *Root) ReadFile(p string) ([]byte, error) {
	f, err := r.OpenFile(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	buf := bytes.NewBuffer(make([]byte, 0, st.Size()+512))
	if _, err := buf.ReadFrom(f); err != nil {
		return nil, pathErr("read", p, err)
	}
	return buf.Bytes(), nil
}

// Readlink returns the target of symlink p.
func (r *Root) Readlink(p string) (string, error) {
	dfd, name, err := r.parent(p)
	if err != nil {
		return "", err
	}
	buf := make([]byte, 256)
	for {
		n, err := unix.Readlinkat(dfd, name, buf)
		if err != nil {
			return "", pathErr("readlink", p, err)
		}
		if n < len(buf) {
			return string(buf[:n]), nil
		}
		buf = make([]byte, 2*len(buf))
	}
}

// ReadDirNames lists the names in directory p, unsorted.
func (r *Root) ReadDirNames(p string) ([]string, error) {
	dfd, err := r.DirFD(p)
	if err != nil {
		return nil, err
	}
	fd, err := unix.Openat(dfd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, pathErr("open", p, err)
	}
	f := os.NewFile(uintptr(fd), r.Host(p))
	defer f.Close()
	return f.Readdirnames(-1)
}

// Mkdir creates directory p with mode 0700; the caller sets owner and mode.
func (r *Root) Mkdir(p string) error {
	dfd, name, err := r.parent(p)
	if err != nil {
		return err
	}
	r.made()
	if err := unix.Mkdirat(dfd, name, 0o700); err != nil {
		return pathErr("mkdir", p, err)
	}
	r.noteMade(p, false)
	r.touch(Parent(p))
	return nil
}

// Chown sets the owner of p itself (a symlink is not followed).
func (r *Root) Chown(p string, uid, gid uint32) error {
	dfd, name, err := r.parent(p)
	if err != nil {
		return err
	}
	if err := unix.Fchownat(dfd, name, int(uid), int(gid), unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return pathErr("chown", p, err)
	}
	r.touchInode(p)
	return nil
}

// Chmod sets the mode of p, which must not be a symlink. Where the kernel
// lacks fchmodat2, the object is opened with O_NOFOLLOW and changed through
// its descriptor.
func (r *Root) Chmod(p string, mode uint32) error {
	dfd, name, err := r.parent(p)
	if err != nil {
		return err
	}
	r.touchInode(p)
	err = unix.Fchmodat(dfd, name, mode, unix.AT_SYMLINK_NOFOLLOW)
	if err != unix.EOPNOTSUPP && err != unix.ENOSYS {
		return pathErr("chmod", p, err)
	}
	fd, err := unix.Openat(dfd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return pathErr("chmod", p, err)
	}
	defer unix.Close(fd)
	return pathErr("chmod", p, unix.Fchmod(fd, mode))
}

// Remove unlinks p, which must not be a directory.
func (r *Root) Remove(p string) error {
	dfd, name, err := r.parent(p)
	if err != nil {
		return err
	}
	if err := unix.Unlinkat(dfd, name, 0); err != nil {
		return pathErr("remove", p, err)
	}
	r.touch(Parent(p))
	return nil
}

// Rmdir removes the empty directory p. A directory that is not empty fails
// with an error satisfying errors.Is(err, ErrNotEmpty).
func (r *Root) Rmdir(p string) error {
	dfd, name, err := r.parent(p)
	if err != nil {
		return err
	}
	r.forgetTree(p)
	if err := unix.Unlinkat(dfd, name, unix.AT_REMOVEDIR); err != nil {
		if err == unix.ENOTEMPTY || err == unix.EEXIST {
			return pathErr("rmdir", p, ErrNotEmpty)
		}
		return pathErr("rmdir", p, err)
	}
	r.noteMade(p, true)
	r.touch(Parent(p))
	return nil
}

// ErrNotEmpty is wrapped by Rmdir's error for a directory that holds files.
var ErrNotEmpty = errors.New("directory not empty")

// Symlink makes p a symlink to target, atomically replacing a file or a
// symlink at p: the link is made under p's temporary name, then renamed.
func (r *Root) Symlink(target, p string) error {
	dfd, name, err := r.parent(p)
	if err != nil {
		return err
	}
	tmp := TempName(name)
	r.made()
	unix.Unlinkat(dfd, tmp, 0)
	if err := unix.Symlinkat(target, dfd, tmp); err != nil {
		return pathErr("symlink", p, err)
	}
	if err := unix.Renameat(dfd, tmp, dfd, name); err != nil {
		unix.Unlinkat(dfd, tmp, 0)
		return pathErr("symlink", p, err)
	}
	r.touch(Parent(p))
	return nil
}

// RemoveTemp removes a temporary file a crashed batch may have left for p.
func (r *Root) RemoveTemp(p string) error {
	dfd, name, err := r.parent(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	err = unix.Unlinkat(dfd, TempName(name), 0)
	if err == unix.ENOENT {
		return nil
	}
	return pathErr("remove", p, err)
}
