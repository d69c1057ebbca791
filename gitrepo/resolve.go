package gitrepo

import (
	"fmt"
	"io/fs"
	"path"
	"strings"
	"syscall"
)

// maxLinkHops bounds symlink resolution, as the kernel's ELOOP does.
const maxLinkHops = 40

// resolver is the one rule by which both a commit's tree (treeFS) and a
// work-tree directory (DirFS) resolve a path: component by component from
// the root, following a symlink only to a place inside the tree, so that
// validating a directory and applying its commit read the same files.
type resolver[N any] struct {
	root   N
	isDir  func(N) bool
	isLink func(N) bool
	// child looks up one name in a directory node; dirPath is that
	// directory's clean path from the root. A missing name is an error
	// wrapping fs.ErrNotExist.
	child func(dir N, dirPath, name string) (N, error)
	// target reads a symlink node's target.
	target func(N) (string, error)
}

// walk resolves name to its node. Symlinks met as directories are always
// followed, the last component only when follow is set. A link that leaves
// the tree is an error.
func (r resolver[N]) walk(op, name string, follow bool) (N, error) {
	var zero N
	if !fs.ValidPath(name) {
		return zero, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	cur, curPath, rest, hops := r.root, ".", name, 0
	if rest == "." {
		rest = ""
	}
	for rest != "" {
		comp, next, _ := strings.Cut(rest, "/")
		if !r.isDir(cur) {
			return zero, &fs.PathError{Op: op, Path: name, Err: syscall.ENOTDIR}
		}
		e, err := r.child(cur, curPath, comp)
		if err != nil {
			return zero, &fs.PathError{Op: op, Path: name, Err: err}
		}
		if r.isLink(e) && (next != "" || follow) {
			if hops++; hops > maxLinkHops {
				return zero, &fs.PathError{Op: op, Path: name, Err: syscall.ELOOP}
			}
			to, err := r.target(e)
			if err != nil {
				return zero, &fs.PathError{Op: op, Path: name, Err: err}
			}
			resolved := path.Join(curPath, to)
			if path.IsAbs(to) || resolved == ".." || strings.HasPrefix(resolved, "../") {
				return zero, &fs.PathError{Op: op, Path: name,
					Err: fmt.Errorf("symlink %s points to %q, outside the repository", path.Join(curPath, comp), to)}
			}
			if next != "" {
				resolved = path.Join(resolved, next)
			}
			cur, curPath, rest = r.root, ".", resolved
			if rest == "." {
				rest = ""
			}
			continue
		}
		cur, curPath, rest = e, path.Join(curPath, comp), next
	}
	return cur, nil
}
