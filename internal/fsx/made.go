package fsx

// Made reports whether dir is a directory this Root's Mkdir made since
// ForgetMade. A file is written at its name (Create) only there: a
// directory that was there before may already be read or watched (cron
// reading /etc/cron.d, a daemon's conf.d, an inotify watcher), and what
// appears in it must appear whole, by a rename, as dpkg's .dpkg-new does.
// No reader was set up on a directory that did not exist when the apply
// began, so a first apply into an empty place keeps the single write.
func (r *Root) Made(dir string) bool {
	_, ok := r.mkdirs[dir]
	return ok
}

// ForgetMade forgets which directories Mkdir made: an operation (an
// apply, its undo, a recovery) starts with none.
func (r *Root) ForgetMade() { clear(r.mkdirs) }

// noteMade records that Mkdir made p, or, when gone is set, that Rmdir
// removed it.
func (r *Root) noteMade(p string, gone bool) {
	if gone {
		delete(r.mkdirs, p)
		return
	}
	if r.mkdirs == nil {
		r.mkdirs = make(map[string]struct{})
	}
	r.mkdirs[p] = struct{}{}
}
