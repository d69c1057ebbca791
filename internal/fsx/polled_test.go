package fsx

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A job placed in /etc/cron.d, or removed from it, leaves the directory
// an mtime in a later second than the change: cron, which compares whole
// seconds, may have looked in that second and recorded it.
func TestFlushMovesPolledDirPastTheSecond(t *testing.T) {
	r, dir := newRoot(t)
	crond := filepath.Join(dir, "etc/cron.d")
	mustMkdir(t, crond)
	uid, gid := uint32(os.Getuid()), uint32(os.Getgid())
	if err := r.Stage("/etc/cron.d/job", strings.NewReader("* * * * * root true\n"), 0o644, uid, gid); err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	// The rename into place set the job's ctime: it is the second of the
	// directory's last change of entries.
	job := stat(t, filepath.Join(crond, "job"))
	if d := stat(t, crond); d.Mtim.Sec <= job.Ctim.Sec {
		t.Errorf("after the job was placed, /etc/cron.d's mtime is %v, in the second of the rename (%v)", mtime(d), ctime(job))
	}

	before := time.Now()
	if err := r.Remove("/etc/cron.d/job"); err != nil {
		t.Fatal(err)
	}
	removed := time.Now()
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	if d := stat(t, crond); before.Unix() == removed.Unix() && d.Mtim.Sec <= before.Unix() {
		t.Errorf("after the job was removed, /etc/cron.d's mtime is %v, in the second of the removal (%v)", mtime(d), before)
	}
}

func stat(t *testing.T, p string) *syscall.Stat_t {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Lstat(p, &st); err != nil {
		t.Fatal(err)
	}
	return &st
}

func mtime(st *syscall.Stat_t) time.Time { return time.Unix(st.Mtim.Unix()) }
func ctime(st *syscall.Stat_t) time.Time { return time.Unix(st.Ctim.Unix()) }
