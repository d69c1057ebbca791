package accounts

import (
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"trail/apply/internal/proc"
	"trail/apply/kind"
	"trail/internal/fsx"
)

// A shadow tool (useradd, userdel, groupmod ...) killed half-way leaves in
// /etc its lock files (passwd.lock, holding its pid), the files it links
// them from (passwd.PID) and the new files it had not renamed into place
// yet (passwd+). The next tool refuses to run while a lock names a live
// process, and a pid is soon reused, so a lock left by a killed tool can
// stop every account change for good. Recovery, having killed what the
// dead trail ran, removes those whose owner is gone (clearShadowLeftovers):
// a lock whose pid is dead, or names a process started after the lock was
// written; a new file, when no live process holds the lock of its file.
// pam_unix's /etc/npasswd and /etc/nshadow go too when no process holds
// lckpwdf(3)'s lock on /etc/.pwd.lock.

// clearShadowLeftovers removes the stale locks and temporary files of
// shadow tools under r's /etc, and says what it removed and why.
func clearShadowLeftovers(r *fsx.Root) ([]string, error) {
	names, err := r.ReadDirNames("/etc")
	if err != nil {
		return nil, nil // no /etc: no accounts to be in the way of
	}
	have := make(map[string]bool, len(names))
	for _, n := range names {
		have[n] = true
	}
	var done []string
	var errs []string
	remove := func(name, why string) {
		if err := r.Remove("/etc/" + name); err != nil {
			errs = append(errs, err.Error())
			return
		}
		done = append(done, "/etc/"+name+" ("+why+")")
	}
	anyLive := false
	for _, f := range accountFiles {
		base, live := path.Base(f), false
		if have[base+".lock"] {
			if why, stale := staleLock(r, "/etc/"+base+".lock"); stale {
				remove(base+".lock", why)
			} else {
				live = true
			}
		}
		for _, n := range names {
			pid, ok := strings.CutPrefix(n, base+".")
			if !ok || strings.Trim(pid, "0123456789") != "" || pid == "" {
				continue
			}
			p, _ := strconv.Atoi(pid)
			st, err := r.Lstat("/etc/" + n)
			if err != nil || st.Type != fsx.Regular {
				continue
			}
			if why, gone := ownerGone(p, st.Mtime); gone {
				remove(n, "left by "+why)
			}
		}
		if have[base+"+"] && !live {
			remove(base+"+", "a new file its tool never renamed into place")
		}
		anyLive = anyLive || live
	}
	if !anyLive && !pwdLockHeld(r) {
		for _, n := range []string{"npasswd", "nshadow"} {
			if have[n] {
				remove(n, "a new file its tool never renamed into place")
			}
		}
	}
	if len(errs) > 0 {
		return done, fmt.Errorf("removing what a killed account tool left: %s", strings.Join(errs, "; "))
	}
	return done, nil
}

// staleLock reports whether the shadow lock file at p belongs to no live
// process, and why.
func staleLock(r *fsx.Root, p string) (string, bool) {
	st, err := r.Lstat(p)
	if err != nil || st.Type != fsx.Regular {
		return "", false
	}
	data, err := r.ReadFile(p)
	if err != nil {
		return "", false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return "a lock without a pid", true
	}
	why, gone := ownerGone(pid, st.Mtime)
	return "a lock of " + why, gone
}

// ownerGone reports whether the process pid, which wrote a file at mtime
// (ns since the epoch), is gone: dead, or replaced by a process started
// later under the same pid.
func ownerGone(pid int, mtime int64) (string, bool) {
	start, _, state, ok := proc.Stat(pid)
	who := "pid " + strconv.Itoa(pid)
	if !ok || state == 'Z' || state == 'X' {
		return who + ", which is gone", true
	}
	if t, ok := procStarted(start); ok && t.After(time.Unix(0, mtime).Add(2*time.Second)) {
		return who + ", now a later process", true
	}
	return who, false
}

// procStarted converts a start time in clock ticks since boot, as
// /proc/PID/stat gives it, to a time.
func procStarted(ticks uint64) (time.Time, bool) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return time.Time{}, false
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "btime "); ok {
			boot, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return time.Time{}, false
			}
			const hz = 100 // USER_HZ: what /proc counts in on every Linux architecture
			return time.Unix(boot, 0).Add(time.Duration(ticks) * time.Second / hz), true
		}
	}
	return time.Time{}, false
}

// pwdLockHeld reports whether a process holds lckpwdf(3)'s lock on the
// root's /etc/.pwd.lock.
func pwdLockHeld(r *fsx.Root) bool {
	f, err := r.OpenFile("/etc/.pwd.lock")
	if err != nil {
		return false
	}
	defer f.Close()
	lk := unix.Flock_t{Type: unix.F_WRLCK}
	if err := unix.FcntlFlock(f.Fd(), unix.F_GETLK, &lk); err != nil {
		return true
	}
	return lk.Type != unix.F_UNLCK
}

// RecoverTools removes what killed shadow tools left in the root's /etc
// (the accounts' recovery, through GROUP's row).
func (Group) RecoverTools(x *kind.Exec) (string, error) {
	cleared, err := clearShadowLeftovers(x.Root)
	if len(cleared) == 0 {
		return "", err
	}
	return "removed what a killed account tool left: " + strings.Join(cleared, ", "), err
}
