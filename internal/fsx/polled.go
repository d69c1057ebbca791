package fsx

import (
	"time"

	"golang.org/x/sys/unix"
)

// SecondPolled lists the directories (from the root) whose reader notices
// a change to their entries only by the directory's mtime, compared in
// whole seconds with the one it saw at its last look. Debian's cron
// (3.0pl1) is one: each minute it reloads /etc/cron.d, or its crontab
// spool, only when the directory's st_mtime differs from the one it
// recorded. A directory changed twice in one second with cron's look in
// between (a staged file's temporary name made, then renamed into place;
// dpkg's write, then cron's start, then a new job), keeps the mtime cron
// recorded: the new job never runs, or a removed one goes on running,
// until something else changes the directory in another second or cron
// restarts.
var SecondPolled = map[string]bool{
	"/etc/cron.d":              true,
	"/var/spool/cron/crontabs": true,
}

// pastSecond gives the directory d, whose entries the batch changed, an
// mtime in a later second than its last change: it waits for the clock to
// pass the second of d's mtime (at most a second), then sets the mtime to
// now. A reader that looked during that second recorded that second at
// most, so its next look sees a new mtime and reads the directory again.
func (r *Root) pastSecond(d string) error {
	if _, err := r.DirFD(d); gone(err) {
		return nil
	} else if err != nil {
		return err
	}
	dfd, name, err := r.parent(d)
	if err != nil {
		return err
	}
	var st unix.Stat_t
	if err := unix.Fstatat(dfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return pathErr("stat", d, err)
	}
	// An mtime more than a second ahead is a clock set back: now differs
	// from it all the same, and waiting for it could take hours.
	if wait := time.Until(time.Unix(st.Mtim.Sec+1, 0)); wait > 0 && wait <= time.Second {
		time.Sleep(wait)
	}
	ts := []unix.Timespec{{Nsec: unix.UTIME_OMIT}, unix.NsecToTimespec(time.Now().UnixNano())}
	if err := unix.UtimesNanoAt(dfd, name, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return pathErr("set the mtime of", d, err)
	}
	return nil
}

// settlePolled runs pastSecond on each directory of SecondPolled the batch
// changed.
func (r *Root) settlePolled() error {
	for d := range r.batch.dirs {
		if !SecondPolled[d] {
			continue
		}
		if err := r.pastSecond(d); err != nil {
			return err
		}
	}
	return nil
}
