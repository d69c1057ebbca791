package fsx

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// SmallBatch is the most objects a Flush syncs one by one with fsync(2);
// a larger batch is synced with syncfs(2), once per file system, which is
// cheaper than thousands of fsyncs but flushes the whole file system.
const SmallBatch = 16

// batch is the work since the last Flush: files staged under temporary
// names, directories whose entries changed, objects whose attributes
// changed.
type batch struct {
	files   []string
	created []string // made in place (Create)
	staged  map[string]bool
	dirs    map[string]bool
	inodes  map[string]bool
}

func (b *batch) empty() bool { return b.pending() == 0 }

func (b *batch) pending() int { return len(b.files) + len(b.created) + len(b.dirs) + len(b.inodes) }

func (b *batch) reset() {
	b.files = b.files[:0]
	b.created = b.created[:0]
	clear(b.staged)
	clear(b.dirs)
	clear(b.inodes)
}

func (r *Root) touch(dir string) {
	if r.batch.dirs == nil {
		r.batch.dirs = make(map[string]bool)
	}
	r.batch.dirs[dir] = true
}

func (r *Root) touchInode(p string) {
	if r.batch.inodes == nil {
		r.batch.inodes = make(map[string]bool)
	}
	r.batch.inodes[p] = true
}

// Pending reports how many objects the next Flush will sync.
func (r *Root) Pending() int {
	return r.batch.pending()
}

// TempName is the temporary name a file or symlink is written under next
// to its final name. It is deterministic so that recovery after a crash can
// remove it; a name too long to extend is replaced by a digest of it.
func TempName(name string) string {
	if len(name) > 200 {
		sum := sha256.Sum256([]byte(name))
		return ".trail-tmp-" + hex.EncodeToString(sum[:12])
	}
	return "." + name + ".trail-tmp"
}

// Stage writes data under p's temporary name with the given mode and owner;
// Flush renames it to p once its data is durable. p's parent must exist.
//
// A mode without setuid, setgid or sticky bits is asked for when the file
// is made, as far as it grants its first owner, group and others nothing
// that any of them is denied in the end (see createPerm); what
// the new file then has is read back with fstat(2), and only an owner or a
// mode that differs is set, before any data is written. Most files need
// neither chown nor chmod then, each a journaled change of the inode.
func (r *Root) Stage(p string, data io.Reader, mode, uid, gid uint32) error {
	dfd, name, err := r.parent(p)
	if err != nil {
		return err
	}
	tmp := TempName(name)
	_, err = r.writeNew(dfd, tmp, data, mode, uid, gid)
	if err == unix.EEXIST {
		unix.Unlinkat(dfd, tmp, 0)
		_, err = r.writeNew(dfd, tmp, data, mode, uid, gid)
	}
	if err != nil {
		return pathErr(opOf(err), p, unwrapPath(err))
	}
	if r.batch.staged == nil {
		r.batch.staged = make(map[string]bool)
	}
	if !r.batch.staged[p] {
		r.batch.staged[p] = true
		r.batch.files = append(r.batch.files, p)
	}
	r.touch(Parent(p))
	return nil
}

// createPerm is the mode a file that is to have mode is made with: its
// owner's bits, and for its group and others only what all three classes
// of mode grant. Until its owner and group are set, the new file is
// root's, in a group a setgid parent may have given it, and anyone may
// turn out to be its owner or in its group: what they open then must be
// no more than mode lets them open after. For the usual modes, where the
// group has no more than the owner and others no more than the group, this
// is mode itself when the group and others are granted the same.
func createPerm(mode uint32) uint32 {
	all := (mode >> 6) & (mode >> 3) & mode & 0o7
	return mode&0o700 | all<<3 | all
}

// settle gives the new file fd, written, the owner and mode it is to
// have where it does not have them already, and leaves its stat in st.
func settle(fd int, mode, uid, gid uint32, st *unix.Stat_t) error {
	if err := unix.Fstat(fd, st); err != nil {
		return err
	}
	changed := false
	if st.Uid != uid || st.Gid != gid {
		if err := unix.Fchown(fd, int(uid), int(gid)); err != nil {
			return err
		}
		changed = true
	}
	if st.Mode&0o7777 != mode {
		if err := unix.Fchmod(fd, mode); err != nil {
			return err
		}
		changed = true
	}
	if changed {
		return unix.Fstat(fd, st)
	}
	return nil
}

// unwrapPath strips an *os.PathError naming the temporary file, so the
// error names the target instead.
func unwrapPath(err error) error {
	if ce, ok := err.(createErr); ok {
		return ce.err
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Flush makes the batch durable: staged data synced, staged files renamed
// into place, the mtime of a changed SecondPolled directory moved past the
// second of the change, then the files made in place, the directories and
// the attributes changed synced. On error the staged files not yet
// renamed are removed; those made in place stay, for the caller's undo.
func (r *Root) Flush() error {
	b := &r.batch
	if b.empty() {
		r.flushedStats()
		return nil
	}
	defer b.reset()
	err := r.written()
	r.flushedStats()
	if err != nil {
		r.dropStaged(b.files)
		return err
	}
	wide := b.pending() > SmallBatch
	switch {
	case len(b.files) == 0:
	case wide:
		err = r.syncfs()
	default:
		err = r.fsyncStaged()
	}
	for i, p := range b.files {
		if err != nil {
			r.dropStaged(b.files[i:])
			return err
		}
		err = r.renameStaged(p)
	}
	if err == nil {
		err = r.settlePolled()
	}
	if err != nil {
		return err
	}
	if wide {
		return r.syncfs()
	}
	if err := r.fsyncCreated(); err != nil {
		return err
	}
	return r.fsyncTouched()
}

// Abort removes the staged files of an unfinished batch.
func (r *Root) Abort() {
	r.written()
	clear(r.newStats)
	r.dropStaged(r.batch.files)
	r.batch.reset()
}

func (r *Root) dropStaged(files []string) {
	for _, p := range files {
		r.RemoveTemp(p)
	}
}

func (r *Root) renameStaged(p string) error {
	dfd, name, err := r.parent(p)
	if err != nil {
		return err
	}
	r.made()
	if err := unix.Renameat(dfd, TempName(name), dfd, name); err != nil {
		return pathErr("rename", p, err)
	}
	return nil
}

// fsyncStaged syncs the data of each staged file before it is renamed.
func (r *Root) fsyncStaged() error {
	for _, p := range r.batch.files {
		dfd, name, err := r.parent(p)
		if err != nil {
			return err
		}
		if err := fsyncAt(dfd, TempName(name)); err != nil {
			return pathErr("fsync", p, err)
		}
	}
	return nil
}

// fsyncTouched syncs each changed directory and each object whose
// attributes changed. A symlink cannot be opened to be synced, so a batch
// that changed one falls back to syncfs.
func (r *Root) fsyncTouched() error {
	for p := range r.batch.inodes {
		dfd, name, err := r.parent(p)
		if err != nil {
			return err
		}
		if err := fsyncAt(dfd, name); err == unix.ELOOP {
			return r.syncfs()
		} else if err != nil && err != unix.ENOENT {
			return pathErr("fsync", p, err)
		}
	}
	for d := range r.batch.dirs {
		fd, err := r.DirFD(d)
		if gone(err) {
			continue
		}
		if err != nil {
			return err
		}
		if err := unix.Fsync(fd); err != nil {
			return pathErr("fsync", d, err)
		}
	}
	return nil
}

func fsyncAt(dfd int, name string) error {
	fd, err := unix.Openat(dfd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return unix.Fsync(fd)
}

// syncfs syncs every file system the batch touched, once each.
func (r *Root) syncfs() error {
	devs := make(map[uint64]int)
	add := func(d string) error {
		fd, err := r.DirFD(d)
		if gone(err) {
			return nil
		}
		if err != nil {
			return err
		}
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			return pathErr("stat", d, err)
		}
		if _, ok := devs[st.Dev]; !ok {
			devs[st.Dev] = fd
		}
		return nil
	}
	if err := add("/"); err != nil {
		return err
	}
	for d := range r.batch.dirs {
		if err := add(d); err != nil {
			return err
		}
	}
	for p := range r.batch.inodes {
		if fd, err := r.DirFD(p); err == nil {
			var st unix.Stat_t
			if unix.Fstat(fd, &st) == nil {
				if _, ok := devs[st.Dev]; !ok {
					devs[st.Dev] = fd
				}
			}
		}
		if err := add(Parent(p)); err != nil {
			return err
		}
	}
	for _, fd := range devs {
		if err := unix.Syncfs(fd); err != nil {
			return fmt.Errorf("fsx: syncfs under %s: %w", r.dir, err)
		}
	}
	return nil
}

// gone reports an error about a directory that is no longer one: removed
// or replaced since it was touched. Its parent's sync covers that change.
func gone(err error) bool {
	return errors.Is(err, os.ErrNotExist) || errors.Is(err, ErrNotDir) || errors.Is(err, ErrSymlink)
}
