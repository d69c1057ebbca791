package accounts

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"

	"trail/internal/fsx"
)

// skelTree is the root's skel directory read once for the homes of a
// batch: useradd -m copies it into each (copy_tree), entry by entry.
type skelTree struct {
	dir     string
	entries []skelEntry // parents before their children
}

type skelEntry struct {
	rel          string // path below the skel directory
	typ          fsx.Type
	mode         uint32
	atime, mtime unix.Timespec
	data         []byte // a file's content
	target       string // a symlink's
}

// skelTree reads the skel directory of /etc/default/useradd (SKEL, else
// /etc/skel); nil when a symlink is on its way in the root, or it holds
// what the fast path does not copy (a device, a fifo, a socket, a file of
// several links).
func (n *native) skelTree() (*skelTree, error) {
	if n.skel != nil {
		return n.skel, nil
	}
	dir := n.defs.dflt["SKEL"]
	if dir == "" {
		dir = "/etc/skel"
	}
	if !path.IsAbs(dir) || path.Clean(dir) != dir {
		return nil, nil
	}
	t := &skelTree{dir: dir}
	host := n.x.Root.Host(dir)
	// Looked up within the root, not at the host path: a symlink on the
	// way would lead out of it, where useradd --root stays inside.
	if st, err := n.x.Root.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		n.skel = t
		return t, nil
	} else if err != nil || st.Type != fsx.Dir {
		return nil, nil
	}
	ok := true
	err := walkSkel(host, "", func(rel string, st *unix.Stat_t) error {
		e := skelEntry{rel: rel, mode: st.Mode & 0o7777, atime: st.Atim, mtime: st.Mtim}
		p := host + "/" + rel
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFDIR:
			e.typ = fsx.Dir
		case unix.S_IFLNK:
			e.typ = fsx.Symlink
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			e.target = target
		case unix.S_IFREG:
			if st.Nlink > 1 {
				ok = false
				return nil
			}
			e.typ = fsx.Regular
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			e.data = data
		default:
			ok = false
			return nil
		}
		t.entries = append(t.entries, e)
		return nil
	})
	if err != nil || !ok {
		return nil, err
	}
	n.skel = t
	return t, nil
}

// walkSkel calls fn for every entry under dir/rel, a directory before
// what it holds.
func walkSkel(dir, rel string, fn func(rel string, st *unix.Stat_t) error) error {
	p := dir
	if rel != "" {
		p += "/" + rel
	}
	names, err := readDirNames(p)
	if err != nil {
		return err
	}
	for _, name := range names {
		r := name
		if rel != "" {
			r = rel + "/" + name
		}
		var st unix.Stat_t
		if err := unix.Lstat(dir+"/"+r, &st); err != nil {
			return err
		}
		if err := fn(r, &st); err != nil {
			return err
		}
		if st.Mode&unix.S_IFMT == unix.S_IFDIR {
			if err := walkSkel(dir, r, fn); err != nil {
				return err
			}
		}
	}
	return nil
}

func readDirNames(p string) ([]string, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

// makeHome creates home h for a new user as useradd -m does when it does
// not exist: missing parents 0755 owned by root, h owned by the user with
// login.defs' HOME_MODE (else 0777 less UMASK), then the skel tree copied
// into it with its modes and times, owned by the user; a symlink whose
// target starts with the skel directory's path has it replaced by h's.
func (n *native) makeHome(h string, uid, gid uint32, t *skelTree) error {
	r := n.x.Root
	if _, err := r.Lstat(h); !errors.Is(err, fs.ErrNotExist) {
		return err // there already: useradd leaves it as it is
	}
	for p := "/"; ; {
		rest := strings.TrimPrefix(h, p)
		name, _, more := strings.Cut(strings.TrimPrefix(rest, "/"), "/")
		next := path.Join(p, name)
		if !more {
			break
		}
		if _, err := r.Lstat(next); errors.Is(err, fs.ErrNotExist) {
			if err := r.Mkdir(next); err != nil {
				return err
			}
			if err := r.Chown(next, 0, 0); err != nil {
				return err
			}
			if err := r.Chmod(next, 0o755); err != nil {
				return err
			}
		}
		p = next
	}
	pfd, err := r.DirFD(path.Dir(h))
	if err != nil {
		return err
	}
	name := path.Base(h)
	if err := unix.Mkdirat(pfd, name, 0); err != nil {
		return err
	}
	hfd, err := unix.Openat(pfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(hfd)
	mode := n.defs.num("HOME_MODE", 0o777&^n.defs.num("UMASK", 0o22))
	if err := unix.Fchown(hfd, int(uid), int(gid)); err != nil {
		return err
	}
	if err := unix.Fchmod(hfd, uint32(mode)&0o7777); err != nil {
		return err
	}
	return copySkel(hfd, t, h, uid, gid)
}

// copySkel copies t's entries below the directory hfd (home h), as
// copy_tree does: a directory's times are set once what it holds is in.
func copySkel(hfd int, t *skelTree, h string, uid, gid uint32) error {
	dirs := map[string]int{"": hfd}
	defer func() {
		for rel, fd := range dirs {
			if rel != "" {
				unix.Close(fd)
			}
		}
	}()
	var done []skelEntry // directories, to time once filled
	for _, e := range t.entries {
		dfd, name := dirs[path.Dir(e.rel)], path.Base(e.rel)
		if path.Dir(e.rel) == "." {
			dfd = hfd
		}
		times := []unix.Timespec{e.atime, e.mtime}
		switch e.typ {
		case fsx.Dir:
			if err := unix.Mkdirat(dfd, name, 0o700); err != nil {
				return err
			}
			fd, err := unix.Openat(dfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
			if err != nil {
				return err
			}
			dirs[e.rel] = fd
			if err := unix.Fchown(fd, int(uid), int(gid)); err != nil {
				return err
			}
			if err := unix.Fchmod(fd, e.mode); err != nil {
				return err
			}
			done = append(done, e)
		case fsx.Symlink:
			target := e.target
			if rest, ok := strings.CutPrefix(target, t.dir); ok {
				target = h + rest
			}
			if err := unix.Symlinkat(target, dfd, name); err != nil {
				return err
			}
			if err := unix.Fchownat(dfd, name, int(uid), int(gid), unix.AT_SYMLINK_NOFOLLOW); err != nil {
				return err
			}
			if err := unix.UtimesNanoAt(dfd, name, times, unix.AT_SYMLINK_NOFOLLOW); err != nil {
				return err
			}
		case fsx.Regular:
			fd, err := unix.Openat(dfd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
			if err != nil {
				return err
			}
			err = writeAll(fd, e.data)
			if err == nil {
				err = unix.Fchown(fd, int(uid), int(gid))
			}
			if err == nil {
				err = unix.Fchmod(fd, e.mode)
			}
			if err == nil {
				err = unix.UtimesNanoAt(fd, "", times, unix.AT_EMPTY_PATH)
			}
			unix.Close(fd)
			if err != nil {
				return err
			}
		}
	}
	for i := len(done) - 1; i >= 0; i-- {
		e := done[i]
		if err := unix.UtimesNanoAt(dirs[e.rel], "", []unix.Timespec{e.atime, e.mtime}, unix.AT_EMPTY_PATH); err != nil {
			return err
		}
	}
	return nil
}

func writeAll(fd int, data []byte) error {
	for len(data) > 0 {
		n, err := unix.Write(fd, data)
		if err != nil {
			return err
		}
		data = data[n:]
	}
	return nil
}

// logRecords are the sizes of a faillog and a lastlog record on this
// architecture; 0 where trail does not know it (useradd is left to it).
var logRecords = map[string][2]int64{"amd64": {32, 292}}

// resetLogs clears the faillog and lastlog records of uid, as useradd
// does for an id that may have been a deleted user's: only a record the
// file already reaches is written.
func (n *native) resetLogs(uid uint64) error {
	sizes := logRecords[runtime.GOARCH]
	for i, f := range []string{"/var/log/faillog", "/var/log/lastlog"} {
		st, err := n.x.Root.Lstat(f)
		if err != nil || st.Type != fsx.Regular {
			continue
		}
		if i == 1 && uid > n.defs.unum("LASTLOG_UID_MAX", 0xFFFFFFFF) {
			continue
		}
		off := sizes[i] * int64(uid)
		if st.Size <= off {
			continue
		}
		fd, err := unix.Open(n.x.Root.Host(f), unix.O_RDWR|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		_, err = unix.Pwrite(fd, make([]byte, sizes[i]), off)
		if err == nil {
			err = unix.Fsync(fd)
		}
		unix.Close(fd)
		if err != nil {
			return err
		}
	}
	return nil
}

// logsKnown reports whether resetLogs can clear uid's records here: the
// record sizes are known, or no file reaches them.
func (n *native) logsKnown(uid uint64) bool {
	if _, ok := logRecords[runtime.GOARCH]; ok {
		return true
	}
	for _, f := range []string{"/var/log/faillog", "/var/log/lastlog"} {
		if st, err := n.x.Root.Lstat(f); err == nil && st.Size > 0 {
			return false
		}
	}
	return true
}
