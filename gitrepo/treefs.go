package gitrepo

import (
	"bytes"
	"container/list"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// treeFS is an fs.FS over one git tree object. Decoded tree objects are
// cached by hash, the most recently used first, up to treeCacheEntries
// entries in all: a walk reads a directory's files together, so paths
// resolve from the cache, and a big tree is not held whole (at 100,000
// files, about 12 MB for as long as the FS lived). Objects are read
// through the repository's pool of readers, so concurrent ReadFile calls
// run in parallel.
type treeFS struct {
	r       *Repo
	commit  string
	root    entry
	mu      sync.Mutex // guards trees, lru and entries
	trees   map[plumbing.Hash]*list.Element
	lru     list.List // of *dirIndex, most recently used first
	entries int
}

// treeCacheEntries bounds the entries of the decoded trees a treeFS
// keeps; the one last used is kept whatever its size.
const treeCacheEntries = 4 << 10

// dirIndex is a decoded tree with a name index.
type dirIndex struct {
	hash    plumbing.Hash
	entries []object.TreeEntry
	byName  map[string]int
}

// entry is one tree entry: a blob, a subtree, a symlink or a submodule.
type entry struct {
	name string
	mode filemode.FileMode
	hash plumbing.Hash
}

func (e entry) isDir() bool  { return e.mode == filemode.Dir }
func (e entry) isLink() bool { return e.mode == filemode.Symlink }

// fsMode maps git's few modes onto fs.FileMode.
func (e entry) fsMode() fs.FileMode {
	switch e.mode {
	case filemode.Dir:
		return fs.ModeDir | 0o755
	case filemode.Executable:
		return 0o755
	case filemode.Symlink:
		return fs.ModeSymlink | 0o777
	case filemode.Submodule:
		return fs.ModeIrregular
	}
	return 0o644
}

func newTreeFS(r *Repo, commit string, t *object.Tree) *treeFS {
	tfs := &treeFS{r: r, commit: commit, trees: make(map[plumbing.Hash]*list.Element),
		root: entry{name: ".", mode: filemode.Dir, hash: t.Hash}}
	tfs.keep(indexTree(t.Hash, t.Entries))
	return tfs
}

func indexTree(h plumbing.Hash, entries []object.TreeEntry) *dirIndex {
	d := &dirIndex{hash: h, entries: entries, byName: make(map[string]int, len(entries))}
	for i, e := range entries {
		d.byName[e.Name] = i
	}
	return d
}

// dir returns the decoded tree with hash h.
func (t *treeFS) dir(h plumbing.Hash) (*dirIndex, error) {
	t.mu.Lock()
	e, ok := t.trees[h]
	if ok {
		t.lru.MoveToFront(e)
	}
	t.mu.Unlock()
	if ok {
		return e.Value.(*dirIndex), nil
	}
	rd := t.r.reader()
	data, err := rd.read(plumbing.TreeObject, h)
	t.r.release(rd)
	var entries []object.TreeEntry
	if err == nil {
		entries, err = parseTree(data)
	}
	if err != nil {
		return nil, fmt.Errorf("read tree %s of commit %s: %w", h, t.commit, err)
	}
	d := indexTree(h, entries)
	t.keep(d)
	return d, nil
}

// keep caches a decoded tree, dropping the least recently used ones past
// treeCacheEntries.
func (t *treeFS) keep(d *dirIndex) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.trees[d.hash]; ok {
		return
	}
	t.trees[d.hash] = t.lru.PushFront(d)
	t.entries += len(d.entries)
	for t.entries > treeCacheEntries && t.lru.Len() > 1 {
		last := t.lru.Back()
		old := last.Value.(*dirIndex)
		t.lru.Remove(last)
		delete(t.trees, old.hash)
		t.entries -= len(old.entries)
	}
}

// blob reads the content of blob h.
func (t *treeFS) blob(h plumbing.Hash) ([]byte, error) {
	rd := t.r.reader()
	data, err := rd.read(plumbing.BlobObject, h)
	t.r.release(rd)
	if err != nil {
		return nil, fmt.Errorf("read blob %s of commit %s: %w", h, t.commit, err)
	}
	return data, nil
}

// walk resolves name to its entry by the resolver's rule.
func (t *treeFS) walk(op, name string, follow bool) (entry, error) {
	r := resolver[entry]{
		root:   t.root,
		isDir:  entry.isDir,
		isLink: entry.isLink,
		child: func(cur entry, _, comp string) (entry, error) {
			d, err := t.dir(cur.hash)
			if err != nil {
				return entry{}, err
			}
			i, ok := d.byName[comp]
			if !ok {
				return entry{}, fs.ErrNotExist
			}
			te := d.entries[i]
			return entry{name: te.Name, mode: te.Mode, hash: te.Hash}, nil
		},
		target: func(e entry) (string, error) {
			to, err := t.blob(e.hash)
			return string(to), err
		},
	}
	cur, err := r.walk(op, name, follow)
	if err == nil && name != "." {
		cur.name = path.Base(name)
	}
	return cur, err
}

// Open opens the named file or directory, following symlinks.
func (t *treeFS) Open(name string) (fs.File, error) {
	e, err := t.walk("open", name, true)
	if err != nil {
		return nil, err
	}
	switch {
	case e.isDir():
		d, err := t.dir(e.hash)
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		return &dirFile{info: t.info(e), entries: t.dirEntries(d)}, nil
	case e.mode == filemode.Submodule:
		return nil, &fs.PathError{Op: "open", Path: name, Err: errSubmodule}
	}
	data, err := t.blob(e.hash)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	info := t.info(e)
	info.size, info.sized = int64(len(data)), true
	return &blobFile{info: info, r: bytes.NewReader(data)}, nil
}

var errSubmodule = errors.New("is a git submodule: trail reads only files of the config repository itself")

// ReadGitBlob returns the content of the blob h, as ReadFile does a
// file's or ReadLink a symlink's, without resolving a path: a walker that
// listed the entry already has its hash, and resolving a path decodes
// every tree above it that the FS's cache no longer holds.
func (t *treeFS) ReadGitBlob(h [20]byte) ([]byte, error) { return t.blob(h) }

// DropCaches lets go of the trees the FS decoded and of the objects its
// repository's readers cache: a compile calls it once it has walked its
// trees, which is all it reads many objects for. Reading again fills
// them again.
func (t *treeFS) DropCaches() {
	t.mu.Lock()
	t.trees = make(map[plumbing.Hash]*list.Element)
	t.lru.Init()
	t.entries = 0
	t.mu.Unlock()
	t.r.dropCaches()
}

// ReadGitTree lists the tree h as ReadDir does a directory, without
// resolving a path.
func (t *treeFS) ReadGitTree(h [20]byte) ([]fs.DirEntry, error) {
	d, err := t.dir(h)
	if err != nil {
		return nil, err
	}
	return t.dirEntries(d), nil
}

// ReadFile returns the content of the named file, following symlinks.
func (t *treeFS) ReadFile(name string) ([]byte, error) {
	e, err := t.walk("read", name, true)
	if err != nil {
		return nil, err
	}
	switch {
	case e.isDir():
		return nil, &fs.PathError{Op: "read", Path: name, Err: syscall.EISDIR}
	case e.mode == filemode.Submodule:
		return nil, &fs.PathError{Op: "read", Path: name, Err: errSubmodule}
	}
	data, err := t.blob(e.hash)
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	return data, nil
}

// ReadDir lists the named directory sorted by file name.
func (t *treeFS) ReadDir(name string) ([]fs.DirEntry, error) {
	e, err := t.walk("readdir", name, true)
	if err != nil {
		return nil, err
	}
	if !e.isDir() {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: syscall.ENOTDIR}
	}
	d, err := t.dir(e.hash)
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	return t.dirEntries(d), nil
}

// dirEntries lists a tree's entries. Names that no fs path can address
// ("", ".", "..", or with a slash: only a corrupt or crafted tree has
// them) are left out, so that walkers cannot loop on them.
func (t *treeFS) dirEntries(d *dirIndex) []fs.DirEntry {
	out := make([]fs.DirEntry, 0, len(d.entries))
	for _, te := range d.entries {
		if !addressable(te.Name) {
			continue
		}
		out = append(out, t.info(entry{name: te.Name, mode: te.Mode, hash: te.Hash}))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out
}

// Stat describes the named file, following symlinks.
func (t *treeFS) Stat(name string) (fs.FileInfo, error) {
	e, err := t.walk("stat", name, true)
	if err != nil {
		return nil, err
	}
	return t.info(e), nil
}

// Lstat describes the named file without following a final symlink.
func (t *treeFS) Lstat(name string) (fs.FileInfo, error) {
	e, err := t.walk("lstat", name, false)
	if err != nil {
		return nil, err
	}
	return t.info(e), nil
}

// ReadLink returns the target of the named symlink.
func (t *treeFS) ReadLink(name string) (string, error) {
	e, err := t.walk("readlink", name, false)
	if err != nil {
		return "", err
	}
	if !e.isLink() {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrInvalid}
	}
	to, err := t.blob(e.hash)
	if err != nil {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: err}
	}
	return string(to), nil
}

func (t *treeFS) info(e entry) *fileInfo {
	return &fileInfo{fs: t, e: e}
}

// fileInfo is both the fs.FileInfo and the fs.DirEntry of a tree entry. The
// size of a blob is read only when asked for.
type fileInfo struct {
	fs    *treeFS
	e     entry
	once  sync.Once
	size  int64
	sized bool
}

func (fi *fileInfo) Name() string       { return fi.e.name }
func (fi *fileInfo) Mode() fs.FileMode  { return fi.e.fsMode() }
func (fi *fileInfo) Type() fs.FileMode  { return fi.e.fsMode().Type() }
func (fi *fileInfo) ModTime() time.Time { return time.Time{} }
func (fi *fileInfo) IsDir() bool        { return fi.e.isDir() }
func (fi *fileInfo) Sys() any           { return fi.e.hash.String() }

// GitHash is the entry's git object id, what Sys gives in hex.
func (fi *fileInfo) GitHash() [20]byte          { return fi.e.hash }
func (fi *fileInfo) Info() (fs.FileInfo, error) { return fi, nil }
func (fi *fileInfo) String() string             { return fs.FormatFileInfo(fi) }

// Size is the blob size in bytes, 0 for directories and submodules and -1
// when the object cannot be read.
func (fi *fileInfo) Size() int64 {
	if fi.sized || fi.e.isDir() || fi.e.mode == filemode.Submodule {
		return fi.size
	}
	fi.once.Do(func() {
		rd := fi.fs.r.reader()
		defer fi.fs.r.release(rd)
		n, err := rd.size(fi.e.hash)
		if err != nil {
			n = -1
		}
		fi.size = n
	})
	return fi.size
}

// blobFile is an open regular file.
type blobFile struct {
	info fs.FileInfo
	r    *bytes.Reader
}

func (f *blobFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *blobFile) Read(p []byte) (int, error) { return f.r.Read(p) }
func (f *blobFile) Close() error               { return nil }

// ReadAt and Seek let callers use the file as os.File is used.
func (f *blobFile) ReadAt(p []byte, off int64) (int, error) { return f.r.ReadAt(p, off) }
func (f *blobFile) Seek(off int64, whence int) (int64, error) {
	return f.r.Seek(off, whence)
}

// dirFile is an open directory.
type dirFile struct {
	info    fs.FileInfo
	entries []fs.DirEntry
	off     int
}

func (d *dirFile) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *dirFile) Close() error               { return nil }
func (d *dirFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.info.Name(), Err: syscall.EISDIR}
}

// ReadDir implements fs.ReadDirFile.
func (d *dirFile) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.entries[d.off:]
	if n <= 0 {
		d.off = len(d.entries)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	if n > len(rest) {
		n = len(rest)
	}
	d.off += n
	return rest[:n], nil
}
