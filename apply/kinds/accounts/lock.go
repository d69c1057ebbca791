package accounts

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"trail/apply/kind"
	"trail/internal/fsx"
)

// lockWait is how long trail waits for a shadow tool holding the account
// files, as lckpwdf(3) does.
const lockWait = 15 * time.Second

// editAccounts rewrites the root's account files through edit, which
// returns a file's new content or nil to leave it. It holds the locks the
// shadow tools take — lckpwdf(3)'s fcntl lock on /etc/.pwd.lock and each
// file's NAME.lock, linked from NAME.PID holding the pid — so that no tool
// changes the files meanwhile. A file is replaced by a durable rename,
// keeping its mode and owner.
func editAccounts(x *kind.Exec, edit func(f string, data []byte) []byte) error {
	pending := false
	for _, f := range shadowFiles {
		data, err := accountData(x, f)
		if err != nil {
			return err
		}
		if len(data) > 0 && edit(f, data) != nil {
			pending = true
			break
		}
	}
	if !pending {
		return nil
	}
	unlock, err := LockAccounts(x)
	if err != nil {
		return err
	}
	defer unlock()
	for _, f := range shadowFiles {
		st, err := x.Root.Lstat(f)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if st.Type != fsx.Regular {
			return fmt.Errorf("%s is a %s, not a file: fix the root's account files by hand", x.Root.Host(f), st.Type)
		}
		data, err := x.Root.ReadFile(f)
		if err != nil {
			return err
		}
		out := edit(f, data)
		if out == nil {
			continue
		}
		if err := x.Root.Stage(f, bytes.NewReader(out), st.Mode, st.UID, st.GID); err != nil {
			return err
		}
	}
	return x.Root.Flush()
}

// LockAccounts takes the shadow tools' locks on the root's account files,
// and on the extra files named (such as /etc/subuid), and returns their
// release.
func LockAccounts(x *kind.Exec, extra ...string) (func(), error) {
	etc, err := x.Root.DirFD("/etc")
	if err != nil {
		return nil, err
	}
	dfd, err := unix.Dup(etc) // the root's cache may close its own
	if err != nil {
		return nil, err
	}
	unix.CloseOnExec(dfd)
	fd, err := unix.Openat(dfd, ".pwd.lock", unix.O_WRONLY|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		unix.Close(dfd)
		return nil, fmt.Errorf("lock %s: %w", x.Root.Host("/etc/.pwd.lock"), err)
	}
	var held []string
	release := func() {
		for _, n := range held {
			unix.Unlinkat(dfd, n, 0)
		}
		unix.Close(fd)
		unix.Close(dfd)
	}
	deadline := time.Now().Add(lockWait)
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0}
	for {
		err := unix.FcntlFlock(uintptr(fd), unix.F_SETLK, &lk)
		if err == nil {
			break
		}
		if err != unix.EAGAIN && err != unix.EACCES || time.Now().After(deadline) {
			release()
			return nil, fmt.Errorf("lock %s: %w (a shadow tool holds the account files: try again when it is done)", x.Root.Host("/etc/.pwd.lock"), err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	pid := strconv.Itoa(os.Getpid())
	for _, f := range append(shadowFiles[:len(shadowFiles):len(shadowFiles)], extra...) {
		if _, err := x.Root.Lstat(f); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		name := path.Base(f)
		if err := linkLock(dfd, name, pid, deadline); err != nil {
			release()
			return nil, fmt.Errorf("lock %s: %w", x.Root.Host(f), err)
		}
		held = append(held, name+".lock")
	}
	return release, nil
}

// linkLock makes NAME.lock in the directory dfd the way the shadow tools
// do: NAME.PID holding the pid, hard-linked to NAME.lock. A lock whose
// process is gone is stale and removed, as the tools remove it.
func linkLock(dfd int, name, pid string, deadline time.Time) error {
	tmp, lock := name+"."+pid, name+".lock"
	const flags = unix.O_WRONLY | unix.O_CREAT | unix.O_EXCL | unix.O_NOFOLLOW | unix.O_CLOEXEC
	fd, err := unix.Openat(dfd, tmp, flags, 0o600)
	if err == unix.EEXIST {
		unix.Unlinkat(dfd, tmp, 0)
		fd, err = unix.Openat(dfd, tmp, flags, 0o600)
	}
	if err != nil {
		return err
	}
	_, err = unix.Write(fd, []byte(pid))
	unix.Close(fd)
	defer unix.Unlinkat(dfd, tmp, 0)
	if err != nil {
		return err
	}
	for {
		err := unix.Linkat(dfd, tmp, dfd, lock, 0)
		if err == nil {
			return nil
		}
		if err != unix.EEXIST {
			return err
		}
		holder := lockHolder(dfd, lock)
		if holder > 0 && unix.Kill(holder, 0) == unix.ESRCH {
			unix.Unlinkat(dfd, lock, 0)
			continue
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s is held by process %d: try again when it is done, or remove it if that process is gone", lock, holder)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// lockHolder reads the pid in a shadow lock file; 0 when unreadable.
func lockHolder(dfd int, lock string) int {
	fd, err := unix.Openat(dfd, lock, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0
	}
	defer unix.Close(fd)
	buf := make([]byte, 32)
	n, _ := unix.Read(fd, buf)
	if n < 0 {
		return 0
	}
	p, _ := strconv.Atoi(strings.TrimSpace(string(buf[:n])))
	return p
}
