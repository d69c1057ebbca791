package fsx

import (
	"io"

	"golang.org/x/sys/unix"
)

// Create writes data at p itself, where nothing is: a path that did not
// exist needs no temporary name and no rename, which for a first apply
// of many files was a second change of each directory. Until Flush
// makes it durable the file may be seen, and after a crash found, half
// written: the caller must have recorded durably, before, that p was
// absent, so that recovery removes what is there (the apply journal's
// intent does), and must know that no reader is looking at p's
// directory, as when it made it (Made). A p that exists is refused with
// an error wrapping fs.ErrExist and left as it is. p's parent must exist.
func (r *Root) Create(p string, data io.Reader, mode, uid, gid uint32) error {
	dfd, name, err := r.parent(p)
	if err != nil {
		return err
	}
	r.made()
	if err := r.writeNew(dfd, name, data, mode, uid, gid); err != nil {
		return pathErr(opOf(err), p, unwrapPath(err))
	}
	r.batch.created = append(r.batch.created, p)
	r.touch(Parent(p))
	return nil
}

// writeNew makes the file name in the directory dfd, which must not
// exist (unix.EEXIST, untouched, when it does), with the given mode and
// owner, and writes data into it; on any other failure the file is
// removed again and the error is a createErr or a write error.
func (r *Root) writeNew(dfd int, name string, data io.Reader, mode, uid, gid uint32) error {
	plain := mode&0o7000 == 0
	perm := uint32(0o600)
	if plain {
		perm = createPerm(mode)
	}
	const flags = unix.O_WRONLY | unix.O_CREAT | unix.O_EXCL | unix.O_NOFOLLOW | unix.O_CLOEXEC
	fd, err := unix.Openat(dfd, name, flags, perm)
	if err == unix.EEXIST {
		return err
	}
	if err != nil {
		return createErr{err}
	}
	if plain {
		err = settle(fd, mode, uid, gid)
	}
	if err == nil {
		if r.buf == nil {
			r.buf = make([]byte, 64<<10)
		}
		// Root's own File, not a new one for each file; the file's
		// name in an error is unwrapped by the caller.
		r.out = File{fd: fd}
		_, err = io.CopyBuffer(&r.out, data, r.buf)
	}
	if err == nil && !plain {
		// chown clears setuid and setgid: the mode is set after it, and
		// after the data, which a write by a non-root owner would clear
		// them for too.
		if err = unix.Fchown(fd, int(uid), int(gid)); err == nil {
			err = unix.Fchmod(fd, mode)
		}
	}
	if cerr := unix.Close(fd); err == nil {
		err = cerr
	}
	if err != nil {
		unix.Unlinkat(dfd, name, 0)
	}
	return err
}

// createErr is a failure to make the file at all, told as "create".
type createErr struct{ err error }

func (e createErr) Error() string { return e.err.Error() }
func (e createErr) Unwrap() error { return e.err }

// opOf names what failed in writeNew's error.
func opOf(err error) string {
	if _, ok := err.(createErr); ok || err == unix.EEXIST {
		return "create"
	}
	return "write"
}

// fsyncCreated syncs the data of each file Create made.
func (r *Root) fsyncCreated() error {
	for _, p := range r.batch.created {
		dfd, name, err := r.parent(p)
		if err != nil {
			return err
		}
		if err := fsyncAt(dfd, name); err != nil && err != unix.ENOENT {
			return pathErr("fsync", p, err)
		}
	}
	return nil
}
