package state

import (
	"io/fs"

	"golang.org/x/sys/unix"
)

// dirNames reads the names in directories through one buffer of its own.
// os takes a buffer (8 KiB) from a pool for each directory it opens and
// gives it back on close; under the race detector, which drops a quarter
// of what a pool is given back, the gc's sweep of the store's 257
// directories then allocated about 512 KiB more, at random.
type dirNames struct{ buf []byte }

// read lists the names in dir, unsorted, without a stat, as readNames
// does: an error wraps the errno (ENOENT, ENOTDIR) in a *fs.PathError.
func (d *dirNames) read(dir string) ([]string, error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	for err == unix.EINTR {
		fd, err = unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	}
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: dir, Err: err}
	}
	defer unix.Close(fd)
	if d.buf == nil {
		d.buf = make([]byte, 8<<10)
	}
	names := []string{}
	for {
		n, err := unix.Getdents(fd, d.buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return names, &fs.PathError{Op: "readdirent", Path: dir, Err: err}
		}
		if n <= 0 {
			return names, nil
		}
		_, _, names = unix.ParseDirent(d.buf[:n], -1, names)
	}
}
