package watch

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/fsnotify/fsnotify"
	"golang.org/x/sys/unix"
)

// watchSet keeps the fsnotify watches in line with the paths to watch. A
// directory that should be watched but is missing (deleted by hand, or not
// created yet) is watched through its nearest existing ancestor under
// root instead, so that its return is noticed and its own watch restored.
type watchSet struct {
	fw    *fsnotify.Watcher
	root  string
	state string // the state directory, always watched for the applied record
	want  *paths

	watched  map[string]struct{} // directories fsnotify watches for us
	missing  map[string]struct{} // wanted directories that are not there
	fallback map[string]struct{} // ancestors watched in place of missing ones
	hints    map[string]struct{} // paths whose events may mean a missing one is back
	suspect  map[string]struct{} // watched directories that were removed, moved or replaced
	failed   map[string]error    // directories the kernel refused to watch
	logf     func(string, ...any)
}

func newWatchSet(fw *fsnotify.Watcher, root, state string, logf func(string, ...any)) *watchSet {
	return &watchSet{fw: fw, root: root, state: state, want: &paths{},
		watched: map[string]struct{}{}, missing: map[string]struct{}{}, fallback: map[string]struct{}{},
		hints: map[string]struct{}{}, suspect: map[string]struct{}{}, failed: map[string]error{}, logf: logf}
}

// route classifies an event's path: whether it can concern a managed
// target (and so calls for a drift check). It marks watched directories
// that the event may have removed or replaced, for the next sync.
func (s *watchSet) route(name string) bool {
	hit := false
	if _, ok := s.want.targets[name]; ok {
		hit = true
	}
	if _, ok := s.want.dirs[name]; ok {
		s.suspect[name] = struct{}{}
		hit = true
	}
	if _, ok := s.hints[name]; ok {
		hit = true
	}
	return hit
}

// replace sets new paths to watch and syncs them all.
func (s *watchSet) replace(p *paths) {
	s.want = p
	clear(s.missing)
	clear(s.suspect)
	s.sync(true)
}

// sync brings the watches in line: all wanted directories when full, else
// only those suspected or missing. It costs an lstat per directory looked
// at and a syscall per watch added or removed.
func (s *watchSet) sync(full bool) {
	if !full && len(s.suspect) == 0 && len(s.missing) == 0 {
		return
	}
	var look map[string]struct{}
	if full {
		look = s.want.dirs
		clear(s.failed)
	} else {
		look = make(map[string]struct{}, len(s.suspect)+len(s.missing))
		for d := range s.suspect {
			look[d] = struct{}{}
		}
		for d := range s.missing {
			look[d] = struct{}{}
		}
	}
	clear(s.suspect)
	for d := range look {
		if _, ok := s.want.dirs[d]; !ok {
			delete(s.missing, d)
			continue
		}
		if isDir(d) && s.add(d) {
			delete(s.missing, d)
			continue
		}
		s.missing[d] = struct{}{}
		s.drop(d)
	}
	if full {
		s.add(s.state)
	}
	s.placeFallbacks()
	if full {
		s.dropUnwanted()
	}
	if full && len(s.failed) > 0 {
		for d, err := range s.failed {
			s.logf("watch: cannot watch %d director(ies), e.g. %s: %v; drift there is found by the periodic rescan", len(s.failed), d, err)
			break
		}
	}
}

// placeFallbacks watches the nearest existing ancestor of each missing
// directory and drops fallbacks no longer needed.
func (s *watchSet) placeFallbacks() {
	next := make(map[string]struct{}, len(s.missing))
	clear(s.hints)
	for d := range s.missing {
		child := d
		for a := filepath.Dir(d); within(s.root, a) && a != child; child, a = a, filepath.Dir(a) {
			s.hints[child] = struct{}{}
			if isDir(a) {
				next[a] = struct{}{}
				break
			}
		}
	}
	for a := range next {
		if _, ok := s.watched[a]; !ok {
			s.add(a)
		}
	}
	for a := range s.fallback {
		if _, ok := next[a]; !ok {
			s.fallback = next
			s.dropUnwanted()
			return
		}
	}
	s.fallback = next
}

// dropUnwanted removes watches that are neither wanted nor fallbacks.
func (s *watchSet) dropUnwanted() {
	for d := range s.watched {
		_, want := s.want.dirs[d]
		_, fb := s.fallback[d]
		if !want && !fb && d != s.state {
			s.drop(d)
		}
	}
}

// add watches d, or re-watches it: for a directory replaced under the same
// name, inotify then follows the new one.
func (s *watchSet) add(d string) bool {
	if err := s.fw.Add(d); err != nil {
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, fsnotify.ErrClosed) {
			s.failed[d] = err
		}
		delete(s.watched, d)
		return false
	}
	delete(s.failed, d)
	s.watched[d] = struct{}{}
	return true
}

// drop stops watching d; fsnotify may have dropped it already (deleted).
func (s *watchSet) drop(d string) {
	if _, ok := s.watched[d]; !ok {
		return
	}
	delete(s.watched, d)
	// EINVAL: the kernel dropped the watch with the directory before
	// fsnotify read the news.
	if err := s.fw.Remove(d); err != nil && !errors.Is(err, fsnotify.ErrNonExistentWatch) && !errors.Is(err, unix.EINVAL) {
		s.logf("watch: stop watching %s: %v", d, err)
	}
}

// isDir reports whether h is a directory itself, not a symlink to one:
// inotify would follow the link to a place trail does not manage.
func isDir(h string) bool {
	fi, err := os.Lstat(h)
	return err == nil && fi.IsDir()
}

// String summarises the set for status lines and logs.
func (s *watchSet) String() string {
	if len(s.missing) > 0 {
		return fmt.Sprintf("watching %d directories, %d missing", len(s.want.dirs)-len(s.missing), len(s.missing))
	}
	return fmt.Sprintf("watching %d directories", len(s.want.dirs))
}
