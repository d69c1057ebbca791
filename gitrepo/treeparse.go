package gitrepo

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// parseTree parses the content of a tree object into its entries, in the
// tree's order; the names share one string. go-git's decoder made a
// string of each name and read the object through a buffered reader of
// its own.
func parseTree(data []byte) ([]object.TreeEntry, error) {
	n, size := 0, 0
	for rest := data; len(rest) > 0; n++ {
		_, name, _, next, err := nextTreeEntry(rest, len(data)-len(rest))
		if err != nil {
			return nil, err
		}
		size += len(name)
		rest = next
	}
	names := treeNames(data, size)
	es := make([]object.TreeEntry, n)
	for i, rest := 0, data; len(rest) > 0; i++ {
		mode, name, id, next, _ := nextTreeEntry(rest, 0)
		e := &es[i]
		e.Mode, e.Name, names = mode, names[:len(name)], names[len(name):]
		copy(e.Hash[:], id)
		rest = next
	}
	return es, nil
}

// nextTreeEntry parses the tree entry data starts with (at offset at of
// the tree, for the error): "<octal mode> <name>\x00<20-byte id>".
func nextTreeEntry(data []byte, at int) (mode filemode.FileMode, name, id, rest []byte, err error) {
	sp := bytes.IndexByte(data, ' ')
	if sp <= 0 || sp > 11 {
		return 0, nil, nil, nil, fmt.Errorf("tree entry at byte %d: %w", at, errTreeMode)
	}
	var m uint64
	for _, c := range data[:sp] {
		if c < '0' || c > '7' {
			return 0, nil, nil, nil, fmt.Errorf("tree entry at byte %d: %w", at, errTreeMode)
		}
		m = m<<3 | uint64(c-'0')
	}
	if m > 1<<32-1 {
		return 0, nil, nil, nil, fmt.Errorf("tree entry at byte %d: %w", at, errTreeMode)
	}
	data = data[sp+1:]
	nul := bytes.IndexByte(data, 0)
	if nul < 0 || len(data) < nul+1+20 {
		return 0, nil, nil, nil, fmt.Errorf("tree entry at byte %d: %w", at, errTreeCut)
	}
	return canonMode(m), data[:nul], data[nul+1 : nul+21], data[nul+21:], nil
}

// canonMode is the mode git reads an entry's mode as (tree-walk.c's
// canon_mode): old and foreign tools wrote modes such as 100664, 100775,
// 40755 or 120777, and git takes a mode of no kind it knows for a
// submodule.
func canonMode(m uint64) filemode.FileMode {
	switch m & 0o170000 {
	case 0o100000:
		if m&0o100 != 0 {
			return filemode.Executable
		}
		return filemode.Regular
	case 0o120000:
		return filemode.Symlink
	case 0o040000:
		return filemode.Dir
	}
	return filemode.Submodule
}

var (
	errTreeMode = errors.New("malformed mode: the tree object is damaged")
	errTreeCut  = errors.New("cut short: the tree object is damaged")
)

// addressable tells whether an fs path can name a tree entry: "", ".",
// ".." and names with a slash or not UTF-8 (as fs.ValidPath says) only a
// damaged or crafted tree holds, and walkers would loop on them.
func addressable(name string) bool {
	return name != "" && name != "." && name != ".." && strings.IndexByte(name, '/') < 0 && utf8.ValidString(name)
}

// addressableBytes is addressable of a name not made a string.
func addressableBytes(name []byte) bool {
	return len(name) > 0 && string(name) != "." && string(name) != ".." && bytes.IndexByte(name, '/') < 0 && utf8.Valid(name)
}

// ListGitTree lists the tree h as ReadGitTree does, in name order and
// without the entries no path can name, but with no DirEntry made for
// each entry and the tree not kept: fn is given each entry's place i of
// the n, its name (the names share one string), its mode as the entry's
// FileInfo says it, and its object id. A compile lists each directory of
// a big tree once, and keeps what it needs of it.
func (t *treeFS) ListGitTree(h [20]byte, fn func(i, n int, name string, mode fs.FileMode, id [20]byte)) error {
	var es []object.TreeEntry
	t.mu.Lock()
	if e, ok := t.trees[h]; ok {
		es = e.Value.(*dirIndex).entries
	}
	t.mu.Unlock()
	if es == nil {
		rd := t.r.reader()
		data, err := rd.read(plumbing.TreeObject, h)
		t.r.release(rd)
		if err == nil && listInOrder(data, fn) {
			return nil
		}
		if err == nil {
			es, err = parseTree(data)
		}
		if err != nil {
			return fmt.Errorf("read tree %s of commit %s: %w", plumbing.Hash(h), t.commit, err)
		}
	}
	keep := slices.IndexFunc(es, func(e object.TreeEntry) bool { return !addressable(e.Name) }) < 0
	sorted := slices.IsSortedFunc(es, func(a, b object.TreeEntry) int { return strings.Compare(a.Name, b.Name) })
	if !keep || !sorted {
		// Git orders a directory as if its name ended in a slash: "a.c"
		// before the directory "a".
		es = slices.DeleteFunc(slices.Clone(es), func(e object.TreeEntry) bool { return !addressable(e.Name) })
		slices.SortFunc(es, func(a, b object.TreeEntry) int { return strings.Compare(a.Name, b.Name) })
	}
	for i, e := range es {
		fn(i, len(es), e.Name, entry{mode: e.Mode}.fsMode(), e.Hash)
	}
	return nil
}

// listInOrder lists the tree object data as ListGitTree does, straight
// from it, when its entries are well formed, each addressable, and in
// name order already (no directory named as a prefix of a name after it):
// else it lists nothing and says false.
func listInOrder(data []byte, fn func(i, n int, name string, mode fs.FileMode, id [20]byte)) bool {
	n, size := 0, 0
	var prev []byte
	for rest := data; len(rest) > 0; n++ {
		_, name, _, next, err := nextTreeEntry(rest, 0)
		if err != nil || (n > 0 && bytes.Compare(prev, name) >= 0) || !addressableBytes(name) {
			return false
		}
		size, prev, rest = size+len(name), name, next
	}
	names := treeNames(data, size)
	for i, rest := 0, data; len(rest) > 0; i++ {
		mode, name, id, next, _ := nextTreeEntry(rest, 0)
		fn(i, n, names[:len(name)], entry{mode: mode}.fsMode(), [20]byte(id))
		names, rest = names[len(name):], next
	}
	return true
}

// treeNames returns the names of the entries of tree object data, which
// parsed whole, in one string of size bytes: one allocation a tree, not
// one a name.
func treeNames(data []byte, size int) string {
	var b strings.Builder
	b.Grow(size)
	for rest := data; len(rest) > 0; {
		_, name, _, next, _ := nextTreeEntry(rest, 0)
		b.Write(name)
		rest = next
	}
	return b.String()
}
