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
	st, err := r.writeNew(dfd, name, data, mode, uid, gid)
	if err != nil {
		return pathErr(opOf(err), p, unwrapPath(err))
	}
	r.created(p)
	r.keepStat(p, st)
	return nil
}

// created counts the file Create made at p in the batch.
func (r *Root) created(p string) {
	r.batch.created = append(r.batch.created, p)
	r.touch(Parent(p))
}

// keepStat keeps the stat of the file Create made at p in the batch,
// for CreatedStat once it is flushed.
func (r *Root) keepStat(p string, st Stat) {
	if r.newStats == nil {
		r.newStats = make(map[string]Stat)
	}
	r.newStats[p] = st
}

// flushedStats makes the stats kept of the batch being flushed
// CreatedStat's, forgetting those of the batch before.
func (r *Root) flushedStats() {
	clear(r.stats)
	r.stats, r.newStats = r.newStats, r.stats
}

// CreatedStat returns what Lstat would of the file Create made at p in
// the batch last flushed (ok false if it made none there): taken by
// whoever wrote it, from its descriptor once written, so that a caller
// recording the stat of every new file (the drift index) needs no lstat
// of each. It holds from that batch's Flush until the next Flush.
func (r *Root) CreatedStat(p string) (st Stat, ok bool) {
	st, ok = r.stats[p]
	return st, ok
}

// writeNew makes the file name in the directory dfd, which must not
// exist (unix.EEXIST, untouched, when it does), with the given mode and
// owner, and writes data into it; on any other failure the file is
// removed again and the error is a createErr or a write error. It
// returns the file's stat once written.
func (r *Root) writeNew(dfd int, name string, data io.Reader, mode, uid, gid uint32) (Stat, error) {
	fd, err := openNew(dfd, name, mode)
	if err != nil {
		return Stat{}, err
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
func writeNewBytes(dfd int, name string, data []byte, mode, uid, gid uint32) (Stat, error) {
	fd, err := openNew(dfd, name, mode)
	if err != nil {
		return Stat{}, err
	}
	f := File{fd: fd}
	_, err = f.Write(data)
	return closeNew(dfd, name, fd, mode, uid, gid, err)
}

// openNew makes the file name in the directory dfd, with no more
// permissions than mode grants (createPerm), and returns its descriptor.
func openNew(dfd int, name string, mode uint32) (int, error) {
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
	return fd, nil
}

// closeNew finishes the file openNew made, once written (err is the
// write's): its owner and mode, then closed; on failure it is removed.
// It returns the file's stat as closed. A plain mode's owner and mode
// are set where the stat shows them off, after the data: what the file
// was made with lets no one more than mode will (createPerm), and the
// one fstat serves both, one syscall a file fewer than a stat before
// the data and an lstat of each new file after.
func closeNew(dfd int, name string, fd int, mode, uid, gid uint32, err error) (Stat, error) {
	var st unix.Stat_t
	if err == nil && plainMode(mode) {
		err = settle(fd, mode, uid, gid, &st)
	} else if err == nil {
		// chown clears setuid and setgid: the mode is set after it, and
		// after the data, which a write by a non-root owner would clear
		// them for too.
		if err = unix.Fchown(fd, int(uid), int(gid)); err == nil {
			err = unix.Fchmod(fd, mode)
		}
		if err == nil {
			err = unix.Fstat(fd, &st)
		}
	}
	if cerr := unix.Close(fd); err == nil {
		err = cerr
	}
	if err != nil {
		unix.Unlinkat(dfd, name, 0)
		return Stat{}, err
	}
	return fromUnix(&st), nil
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
