package fsx

import (
	"bytes"
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
	if r.bg != nil {
		// Queued, or too big to be: then written here, what was read
		// of it first.
		head, queued, err := r.bg.queue(dfd, name, p, data, mode, uid, gid)
		if err != nil {
			return pathErr("write", p, err)
		}
		if queued {
			r.created(p)
			return nil
		}
		data = io.MultiReader(bytes.NewReader(head), data)
	}
	if err := r.writeNew(dfd, name, data, mode, uid, gid); err != nil {
		return pathErr(opOf(err), p, unwrapPath(err))
	}
	r.created(p)
	return nil
}

// created counts the file Create made at p in the batch.
func (r *Root) created(p string) {
	r.batch.created = append(r.batch.created, p)
	r.touch(Parent(p))
}

// writeNew makes the file name in the directory dfd, which must not
// exist (unix.EEXIST, untouched, when it does), with the given mode and
// owner, and writes data into it; on any other failure the file is
// removed again and the error is a createErr or a write error.
func (r *Root) writeNew(dfd int, name string, data io.Reader, mode, uid, gid uint32) error {
	fd, err := openNew(dfd, name, mode, uid, gid)
	if err != nil {
		return err
	}
	if r.buf == nil {
		r.buf = make([]byte, 64<<10)
	}
	// Root's own File, not a new one for each file; the file's name in
	// an error is unwrapped by the caller.
	r.out = File{fd: fd}
	_, err = io.CopyBuffer(&r.out, data, r.buf)
	return closeNew(dfd, name, fd, mode, uid, gid, err)
}

// writeNewBytes is writeNew of content held in memory, for the
// background writer, which has no buffer to copy through.
func writeNewBytes(dfd int, name string, data []byte, mode, uid, gid uint32) error {
	fd, err := openNew(dfd, name, mode, uid, gid)
	if err != nil {
		return err
	}
	f := File{fd: fd}
	_, err = f.Write(data)
	return closeNew(dfd, name, fd, mode, uid, gid, err)
}

// openNew makes the file name in the directory dfd, with its owner and
// mode set when they are plain (no setuid, setgid or sticky bit), and
// returns its descriptor.
func openNew(dfd int, name string, mode, uid, gid uint32) (int, error) {
	perm := uint32(0o600)
	if plainMode(mode) {
		perm = createPerm(mode)
	}
	const flags = unix.O_WRONLY | unix.O_CREAT | unix.O_EXCL | unix.O_NOFOLLOW | unix.O_CLOEXEC
	fd, err := unix.Openat(dfd, name, flags, perm)
	if err == unix.EEXIST {
		return -1, err
	}
	if err != nil {
		return -1, createErr{err}
	}
	if plainMode(mode) {
		if err := settle(fd, mode, uid, gid); err != nil {
			unix.Close(fd)
			unix.Unlinkat(dfd, name, 0)
			return -1, err
		}
	}
	return fd, nil
}

// closeNew finishes the file openNew made, once written (err is the
// write's): the owner and mode of one that is not plain, then closed; on
// failure it is removed.
func closeNew(dfd int, name string, fd int, mode, uid, gid uint32, err error) error {
	if err == nil && !plainMode(mode) {
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

// plainMode reports a mode without setuid, setgid or sticky bits: the
// new file is made with it, its owner set before the data.
func plainMode(mode uint32) bool { return mode&0o7000 == 0 }

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
