package compile

import (
	"encoding/hex"
	"io/fs"
	"strings"
)

// A resolved git tree is a tree object's entries as a tree block needs
// them: name, type, the symlink's target and the sha256 of each file's
// content. It is a pure function of the tree's object hash, so an earlier
// compile's resolution (Result.Trees) serves any later one through
// Options.Trees: a tree whose object did not change is neither read nor
// hashed again, whatever the block over it says. Nothing a block sets
// (target, modes, owner, exclude, drift) or a host brings (facts, vars) is
// in a resolved tree; the steps are made from it afresh each compile, so
// they are byte for byte a fresh compile's.

// EntryType is the type of a resolved tree entry.
type EntryType uint8

const (
	EntryFile EntryType = iota
	EntryExec           // a file git marks executable
	EntryDir
	EntryLink
	EntryOther // a submodule (or, in a work tree, a device or socket)
)

// TreeEntry is one entry of a resolved tree, in the tree's name order.
type TreeEntry struct {
	Name string
	Type EntryType
	// Git is the entry's object: a subtree, a file's blob or a link's.
	Git [20]byte
	// Sum is the sha256 of a file's content when Known: an entry a block
	// excluded is not read, and is resolved when a block takes it.
	Sum   [32]byte
	Known bool
	// To is a symlink's target.
	To string
}

// treeOf returns the resolved entries of the git tree hash, from this
// compile or Options.Trees, or false.
func (c *compiler) treeOf(hash string) ([]TreeEntry, bool) {
	if es, ok := c.trees[hash]; ok {
		return es, true
	}
	if c.opts.Trees == nil {
		return nil, false
	}
	return c.opts.Trees(hash)
}

// readTree lists the directory p of fsys as tree entries, for resolving
// it: by its git hash (not "") when fsys reads git objects, and then the
// git hash of each entry is set. errs
// holds, by entry, a symlink whose target could not be read: the walk
// reports it, and such a listing is not kept. The entries' names share
// one string, so the listing keeps none of what fsys made.
func (c *compiler) readTree(p, hash string) (es []TreeEntry, errs []error, err error) {
	if g, ok := c.fsys.(gitTreeFS); ok && len(hash) == 40 {
		return c.listTree(g, p, hash)
	}
	des, err := fs.ReadDir(c.fsys, p)
	if err != nil {
		return nil, nil, err
	}
	size := 0
	for _, d := range des {
		size += len(d.Name())
	}
	var b strings.Builder
	b.Grow(size)
	for _, d := range des {
		b.WriteString(d.Name())
	}
	names := b.String()
	byHash, _ := c.fsys.(gitBlobFS)
	es = make([]TreeEntry, len(des))
	for i, d := range des {
		e := &es[i]
		n := len(d.Name())
		e.Name, names = names[:n], names[n:]
		// A git tree's entries are their own FileInfo; a work tree's
		// are asked (an lstat) only for a file's x bits.
		info, _ := d.(fs.FileInfo)
		e.Type = entryType(d.Type(), func() fs.FileMode {
			if info == nil {
				info, _ = d.Info()
			}
			if info == nil {
				return 0
			}
			return info.Mode()
		})
		g, byGit := d.(interface{ GitHash() [20]byte })
		if e.Type == EntryLink {
			var lerr error
			if byGit && byHash != nil {
				var to []byte
				if to, lerr = byHash.ReadGitBlob(g.GitHash()); lerr != nil {
					lerr = &fs.PathError{Op: "readlink", Path: joinPath(p, e.Name), Err: lerr}
				}
				e.To = string(to)
			} else {
				e.To, lerr = fs.ReadLink(c.fsys, joinPath(p, e.Name))
			}
			if lerr != nil {
				if errs == nil {
					errs = make([]error, len(des))
				}
				errs[i] = lerr
			}
		}
		if byGit {
			e.Git = g.GitHash()
		} else if info != nil {
			if h, ok := info.Sys().(string); ok && len(h) == 40 {
				hex.Decode(e.Git[:], []byte(h))
			}
		}
	}
	return es, errs, nil
}

// listTree is readTree of a git tree, listed by its hash: each entry's
// git hash is set, and a symlink's target read by its own.
func (c *compiler) listTree(g gitTreeFS, p, hash string) (es []TreeEntry, errs []error, err error) {
	var raw [20]byte
	if _, err := hex.Decode(raw[:], []byte(hash)); err != nil {
		return nil, nil, err
	}
	links := false
	err = g.ListGitTree(raw, func(i, n int, name string, mode fs.FileMode, id [20]byte) {
		if es == nil {
			es = make([]TreeEntry, n)
		}
		e := &es[i]
		e.Name, e.Git = name, id
		e.Type = entryType(mode.Type(), func() fs.FileMode { return mode })
		links = links || e.Type == EntryLink
	})
	if err != nil {
		return nil, nil, &fs.PathError{Op: "readdir", Path: p, Err: err}
	}
	if es == nil {
		es = []TreeEntry{}
	}
	if !links {
		return es, nil, nil
	}
	for i := range es {
		e := &es[i]
		if e.Type != EntryLink {
			continue
		}
		to, lerr := g.ReadGitBlob(e.Git)
		if lerr != nil {
			if errs == nil {
				errs = make([]error, len(es))
			}
			errs[i] = &fs.PathError{Op: "readlink", Path: joinPath(p, e.Name), Err: lerr}
		}
		e.To = string(to)
	}
	return es, errs, nil
}

// entryType is the entry type of a directory entry of type t; mode gives
// the entry's mode when a file's x bits are wanted.
func entryType(t fs.FileMode, mode func() fs.FileMode) EntryType {
	switch {
	case t.IsDir():
		return EntryDir
	case t&fs.ModeSymlink != 0:
		return EntryLink
	case t.IsRegular():
		if mode()&0o111 != 0 {
			return EntryExec
		}
		return EntryFile
	}
	return EntryOther
}

func joinPath(dir, name string) string {
	if dir == "." {
		return name
	}
	return dir + "/" + name
}

// before is a directory's resolved entries in the commit before
// (Options.Before), by name: a directory the commit changed takes the
// sums of its unchanged files from there, found by name, rather than
// through Options.KnownBlob, whose index of every known blob a pull of one
// changed file among 100,000 spent more on making than the rest of its
// look-ups. nil when the directory is new, or unknown.
type before map[string]*TreeEntry

// beforeMisses is how many files of directories known before a compile
// reads without asking KnownBlob: a file changed in place is read anyway,
// but many files moved in from elsewhere are worth the index.
const beforeMisses = 64

// before returns the directory p's entries in the commit before.
func (c *compiler) before(p string) before {
	if c.opts.Before == nil || c.opts.Trees == nil {
		return nil
	}
	h, ok := c.opts.Before(p)
	if !ok {
		return nil
	}
	es, ok := c.treeOf(h)
	if !ok {
		return nil
	}
	b := make(before, len(es))
	for i := range es {
		if e := &es[i]; e.Known && (e.Type == EntryFile || e.Type == EntryExec) {
			b[e.Name] = e
		}
	}
	return b
}

// sum is the content sum of the file name with blob git, when the
// directory before held that blob under that name.
func (b before) sum(name string, git [20]byte) ([32]byte, bool) {
	if e, ok := b[name]; ok && e.Git == git {
		return e.Sum, true
	}
	return [32]byte{}, false
}

// enough reports, for a file the directory before did not hold, whether
// it is read without asking KnownBlob: while the directory was known
// before and the compile has read fewer than beforeMisses such files.
func (b before) enough(c *compiler) bool {
	if b == nil || c.beforeMisses >= beforeMisses {
		return false
	}
	c.beforeMisses++
	return true
}
