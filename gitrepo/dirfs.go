package gitrepo

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DirFS reads a work-tree directory by the rules Tree reads a commit by,
// so that checking a checkout (trail validate) sees what applying its
// commit will see:
//   - a symlink is followed only to a place inside the directory; one that
//     points out of it (absolute, or up past the root) cannot be read;
//   - modes are git's: 0644, or 0755 when the owner may execute, 0755 for
//     directories, 0777 for symlinks; ModTime is zero;
//   - a directory that holds no file (at any depth) is not there, as git
//     keeps no empty directory;
//   - .git is not there, and a directory holding .git (a nested repository
//     or a submodule's checkout) is an fs.ModeIrregular entry, as a
//     submodule is in a tree; so are fifos, sockets and devices, which git
//     cannot hold. Neither can be opened.
//   - a file .gitattributes gives filter=lfs reads as the Git LFS pointer
//     the commit holds for it, not as the content in the work tree.
//
// What git would not commit (untracked or ignored files) is still read:
// validate a clean checkout.
func DirFS(dir string) fs.FS {
	return &dirFS{dir: dir}
}

type dirFS struct {
	dir   string
	mu    sync.Mutex            // guards attrs and full
	attrs map[string][]attrLine // filter lines of .gitattributes by directory
	full  map[string]bool       // whether a directory holds anything git keeps
}

// holdsFiles reports whether the directory at rel holds, at any depth,
// something git keeps: a file, a symlink or a nested repository. A tree
// has no empty directories.
func (d *dirFS) holdsFiles(rel string) bool {
	d.mu.Lock()
	full, ok := d.full[rel]
	d.mu.Unlock()
	if ok {
		return full
	}
	ents, _ := os.ReadDir(d.host(rel))
	for _, e := range ents {
		if e.Name() == ".git" {
			full = true // a nested repository: an entry of its own
			break
		}
		t := e.Type()
		if t.IsRegular() || t == fs.ModeSymlink || t.IsDir() && d.holdsFiles(path.Join(rel, e.Name())) {
			full = true
			break
		}
	}
	d.mu.Lock()
	if d.full == nil {
		d.full = map[string]bool{}
	}
	d.full[rel] = full
	d.mu.Unlock()
	return full
}

// dnode is one resolved entry of a directory: rel is its clean path from
// the root with every symlink resolved.
type dnode struct {
	rel  string
	mode fs.FileMode
	size int64
	lfs  []byte // the pointer git holds for a file the LFS filter stores
}

func (n dnode) isDir() bool  { return n.mode.IsDir() }
func (n dnode) isLink() bool { return n.mode.Type() == fs.ModeSymlink }

var errSpecial = errors.New("is neither a file, a directory nor a symlink: git cannot hold it")

func (d *dirFS) host(rel string) string { return filepath.Join(d.dir, filepath.FromSlash(rel)) }

// node describes the entry at rel without following it.
func (d *dirFS) node(rel string) (dnode, error) {
	info, err := os.Lstat(d.host(rel))
	if err != nil {
		return dnode{}, err
	}
	n := dnode{rel: rel}
	switch t := info.Mode(); {
	case t.IsDir():
		n.mode = fs.ModeDir | 0o755
		if rel != "." {
			if _, err := os.Lstat(d.host(path.Join(rel, ".git"))); err == nil {
				n.mode = fs.ModeIrregular
			} else if !d.holdsFiles(rel) {
				return dnode{}, fs.ErrNotExist // git keeps no empty directory
			}
		}
	case t.Type() == fs.ModeSymlink:
		n.mode, n.size = fs.ModeSymlink|0o777, info.Size()
	case t.IsRegular():
		n.mode, n.size = 0o644, info.Size()
		if t&0o100 != 0 {
			n.mode = 0o755
		}
		if d.lfsFiltered(rel) {
			data, err := os.ReadFile(d.host(rel))
			if err != nil {
				return dnode{}, err
			}
			n.lfs = lfsPointer(data)
			n.size = int64(len(n.lfs))
		}
	default:
		n.mode = fs.ModeIrregular
	}
	return n, nil
}

func (d *dirFS) walk(op, name string, follow bool) (dnode, error) {
	r := resolver[dnode]{
		root:   dnode{rel: ".", mode: fs.ModeDir | 0o755},
		isDir:  dnode.isDir,
		isLink: dnode.isLink,
		child: func(_ dnode, dirPath, comp string) (dnode, error) {
			if comp == ".git" || strings.IndexByte(comp, 0) >= 0 {
				return dnode{}, fs.ErrNotExist // names git cannot hold
			}
			n, err := d.node(path.Join(dirPath, comp))
			return n, bare(err)
		},
		target: func(n dnode) (string, error) {
			to, err := os.Readlink(d.host(n.rel))
			return to, bare(err)
		},
	}
	return r.walk(op, name, follow)
}

// bare is err without the host path of the directory, which errors must
// not show (they name repository paths): the errno, or fs.ErrNotExist.
func bare(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENAMETOOLONG) {
		return fs.ErrNotExist // no such name can be there
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// irregular is the error of opening an entry git cannot hold as a file.
func (d *dirFS) irregular(n dnode) error {
	if info, err := os.Lstat(d.host(n.rel)); err == nil && info.IsDir() {
		return errSubmodule
	}
	return errSpecial
}

func (d *dirFS) Open(name string) (fs.File, error) {
	n, err := d.walk("open", name, true)
	if err != nil {
		return nil, err
	}
	switch {
	case n.isDir():
		entries, err := d.readDir(n)
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		return &dirFile{info: d.info(n, name), entries: entries}, nil
	case n.mode&fs.ModeIrregular != 0:
		return nil, &fs.PathError{Op: "open", Path: name, Err: d.irregular(n)}
	}
	if n.lfs != nil {
		return &blobFile{info: d.info(n, name), r: bytes.NewReader(n.lfs)}, nil
	}
	f, err := os.OpenFile(d.host(n.rel), os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: bare(err)}
	}
	return &osFile{f: f, info: d.info(n, name)}, nil
}

func (d *dirFS) ReadFile(name string) ([]byte, error) {
	f, err := d.Open(name)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			pe.Op = "read"
		}
		return nil, err
	}
	defer f.Close()
	if info, _ := f.Stat(); info.IsDir() {
		return nil, &fs.PathError{Op: "read", Path: name, Err: syscall.EISDIR}
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	return data, nil
}

func (d *dirFS) ReadDir(name string) ([]fs.DirEntry, error) {
	n, err := d.walk("readdir", name, true)
	if err != nil {
		return nil, err
	}
	if !n.isDir() {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: syscall.ENOTDIR}
	}
	out, err := d.readDir(n)
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	return out, nil
}

// readDir lists a directory sorted by name, without .git.
func (d *dirFS) readDir(n dnode) ([]fs.DirEntry, error) {
	ents, err := os.ReadDir(d.host(n.rel))
	if err != nil {
		return nil, bare(err)
	}
	out := make([]fs.DirEntry, 0, len(ents))
	for _, e := range ents {
		if e.Name() == ".git" {
			continue
		}
		c, err := d.node(path.Join(n.rel, e.Name()))
		if err != nil {
			continue // gone since the listing
		}
		out = append(out, d.info(c, e.Name()))
	}
	return out, nil
}

func (d *dirFS) Stat(name string) (fs.FileInfo, error) {
	n, err := d.walk("stat", name, true)
	if err != nil {
		return nil, err
	}
	return d.info(n, name), nil
}

func (d *dirFS) Lstat(name string) (fs.FileInfo, error) {
	n, err := d.walk("lstat", name, false)
	if err != nil {
		return nil, err
	}
	return d.info(n, name), nil
}

func (d *dirFS) ReadLink(name string) (string, error) {
	n, err := d.walk("readlink", name, false)
	if err != nil {
		return "", err
	}
	if !n.isLink() {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrInvalid}
	}
	to, err := os.Readlink(d.host(n.rel))
	if err != nil {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: bare(err)}
	}
	return to, nil
}

func (d *dirFS) info(n dnode, name string) *dirInfo {
	return &dirInfo{n: n, name: path.Base(name)}
}

// dirInfo is both the fs.FileInfo and the fs.DirEntry of a dnode.
type dirInfo struct {
	n    dnode
	name string
}

func (fi *dirInfo) Name() string               { return fi.name }
func (fi *dirInfo) Size() int64                { return fi.n.size }
func (fi *dirInfo) Mode() fs.FileMode          { return fi.n.mode }
func (fi *dirInfo) Type() fs.FileMode          { return fi.n.mode.Type() }
func (fi *dirInfo) ModTime() time.Time         { return time.Time{} }
func (fi *dirInfo) IsDir() bool                { return fi.n.isDir() }
func (fi *dirInfo) Sys() any                   { return nil }
func (fi *dirInfo) Info() (fs.FileInfo, error) { return fi, nil }
func (fi *dirInfo) String() string             { return fs.FormatFileInfo(fi) }

// osFile is an open regular file described by git's view of it.
type osFile struct {
	f    *os.File
	info *dirInfo
}

func (f *osFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *osFile) Read(p []byte) (int, error) { return f.f.Read(p) }
func (f *osFile) Close() error               { return f.f.Close() }
