package watch

import (
	"path/filepath"
	"slices"

	"trail/stepfmt"
)

// paths is what the watcher derives from a step list: the host paths of
// the managed path targets (DIR, FILE, LINK), and the directories whose
// inotify events tell about them. Each target is watched through its
// parent directory, never by itself: an editor's rename-write or a
// package's unpack replaces the inode, and a watch on the old inode would
// go quiet. The parent reports a target's creation, deletion, renames in
// and out, writes and attribute changes (inotify(7): IN_ATTRIB and
// IN_MODIFY are reported for the children of a watched directory).
type paths struct {
	targets map[string]struct{} // host paths of the managed targets
	dirs    map[string]struct{} // host directories to watch
}

// derive computes the paths of a step list under root, which must be
// absolute and clean. Steps of other kinds are not paths and are left out.
func derive(root string, l *stepfmt.List) *paths {
	p := &paths{targets: make(map[string]struct{}), dirs: make(map[string]struct{})}
	if l == nil {
		return p
	}
	for _, s := range l.Steps {
		if !stepfmt.IsPath(s.Kind) {
			continue
		}
		h := hostPath(root, s.Target)
		p.targets[h] = struct{}{}
		p.dirs[parentOf(root, h)] = struct{}{}
	}
	return p
}

// hostPath is a target's path under root. Targets are absolute and clean
// (stepfmt validates them), so joining cannot leave root.
func hostPath(root, target string) string {
	return filepath.Join(root, target)
}

// parentOf is the directory watched for host path h: its parent, or root
// itself for the root (a DIR / step), since nothing above root is trail's.
func parentOf(root, h string) string {
	if h == root {
		return root
	}
	return filepath.Dir(h)
}

// within reports whether h is root or below it.
func within(root, h string) bool {
	if root == "/" || h == root {
		return filepath.IsAbs(h)
	}
	return len(h) > len(root) && h[:len(root)] == root && h[len(root)] == '/'
}

// sortedDirs returns the directories in a stable order, for logs and tests.
func (p *paths) sortedDirs() []string {
	out := make([]string, 0, len(p.dirs))
	for d := range p.dirs {
		out = append(out, d)
	}
	slices.Sort(out)
	return out
}
