package apply

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A file added to a directory that was there before the apply appears
// whole, by a rename, as dpkg's .dpkg-new does: a reader watching that
// directory (cron, a daemon's conf.d, an inotify watcher) never sees it
// created empty and written. Only in a directory the apply made is a new
// file written at its name. An inotify watch on the old directory, set
// before the apply, sees the new file moved in, never created, and the
// new directory created.
func TestNewFileInOldDirectoryAppearsWhole(t *testing.T) {
	sb := newSandbox(t)
	sb.apply("DIR /srv/app\n", "A")
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if _, err := unix.InotifyAddWatch(fd, filepath.Join(sb.root, "srv/app"), unix.IN_CREATE|unix.IN_MOVED_TO); err != nil {
		t.Fatal(err)
	}
	sb.apply("DIR /srv/app\nFILE /srv/app/new.conf {"+strings.Repeat("x", 100000)+"}\n"+
		"DIR /srv/app/fresh\nFILE /srv/app/fresh/f {in a new directory}\n", "B")
	seen := inotifyEvents(t, fd)
	if seen["new.conf"]&unix.IN_CREATE != 0 || seen["new.conf"]&unix.IN_MOVED_TO == 0 {
		t.Fatalf("new.conf in a directory that was there: events %#x, want a move in and no create", seen["new.conf"])
	}
	if seen["fresh"]&unix.IN_CREATE == 0 {
		t.Fatalf("the new directory: events %#x, want its create (is the watch working?)", seen["fresh"])
	}
}

// inotifyEvents reads what fd holds now, the events' masks or'ed by name.
func inotifyEvents(t *testing.T, fd int) map[string]uint32 {
	t.Helper()
	seen := make(map[string]uint32)
	buf := make([]byte, 64<<10)
	for {
		n, err := unix.Read(fd, buf)
		if errors.Is(err, unix.EAGAIN) {
			return seen
		}
		if err != nil {
			t.Fatal(err)
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			name := buf[off+unix.SizeofInotifyEvent : off+unix.SizeofInotifyEvent+int(ev.Len)]
			seen[string(bytes.TrimRight(name, "\x00"))] |= ev.Mask
			off += unix.SizeofInotifyEvent + int(ev.Len)
		}
	}
}
