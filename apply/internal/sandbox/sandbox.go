// Package sandbox is what the tests of the engine and of every step kind
// build a machine with: a root under t.TempDir() with its own account
// files, read and written from the host side, and descriptions of a tree
// to compare before and after. It does not import the engine, so that the
// engine's own tests can use it; package sandbox/engine adds an engine
// on top for the tests of the kinds.
package sandbox

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"

	"trail/stepfmt"
)

// The account files of a new root: root, alice (1000) and bob (1001),
// and the group staff (50).
const (
	Passwd = "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/sh\nbob:x:1001:1001::/home/bob:/bin/sh\n"
	Group  = "root:x:0:\nstaff:x:50:\nalice:x:1000:\nbob:x:1001:\n"
)

// AccountFiles are the files the shadow tools change.
var AccountFiles = []string{"/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow"}

// Root is a machine's root directory under t.TempDir().
type Root struct {
	t   testing.TB
	Dir string
}

// NewRoot makes a root with /srv, /opt, /usr/bin, /var/lib and the
// account files Passwd and Group.
func NewRoot(t testing.TB) *Root {
	t.Helper()
	r := &Root{t: t, Dir: t.TempDir()}
	for _, d := range []string{"/srv", "/opt", "/usr/bin", "/var/lib"} {
		if err := os.MkdirAll(r.Host(d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	r.Write("/etc/passwd", Passwd, 0o644)
	r.Write("/etc/group", Group, 0o644)
	return r
}

// At is the root at dir, made by the caller.
func At(t testing.TB, dir string) *Root { return &Root{t: t, Dir: dir} }

// Host returns where path p of the root is on the host.
func (r *Root) Host(p string) string { return filepath.Join(r.Dir, p) }

// Write writes p with content and mode, making its parents.
func (r *Root) Write(p, content string, mode os.FileMode) {
	r.t.Helper()
	h := r.Host(p)
	if err := os.MkdirAll(filepath.Dir(h), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(h, []byte(content), mode); err != nil {
		r.t.Fatal(err)
	}
	if err := os.Chmod(h, mode); err != nil {
		r.t.Fatal(err)
	}
}

// Read returns the content of p.
func (r *Root) Read(p string) string {
	r.t.Helper()
	b, err := os.ReadFile(r.Host(p))
	if err != nil {
		r.t.Fatal(err)
	}
	return string(b)
}

// Stat returns the lstat of p.
func (r *Root) Stat(p string) *syscall.Stat_t {
	r.t.Helper()
	var st syscall.Stat_t
	if err := syscall.Lstat(r.Host(p), &st); err != nil {
		r.t.Fatal(err)
	}
	return &st
}

// Exists reports whether p is there (a symlink not followed).
func (r *Root) Exists(p string) bool {
	_, err := os.Lstat(r.Host(p))
	return err == nil
}

// WithShadow makes the root fit for the shadow tools (skipping the test
// where they are not installed): /etc/shadow and /etc/gshadow for the
// accounts of NewRoot, /home, /etc/skel and, with defs, a login.defs with
// Debian's ranges.
func (r *Root) WithShadow(defs bool) {
	r.t.Helper()
	for _, tool := range []string{"useradd", "usermod", "userdel", "groupadd", "groupmod", "groupdel", "chage"} {
		if _, err := exec.LookPath("/usr/sbin/" + tool); err != nil {
			if _, err := exec.LookPath(tool); err != nil {
				r.t.Skipf("%s is not installed", tool)
			}
		}
	}
	r.Write("/etc/shadow", "root:*:19000:0:99999:7:::\nalice:!:19000:0:99999:7:::\nbob:$6$salt$hash:19000:0:99999:7:::\n", 0o640)
	r.Write("/etc/gshadow", "root:*::\nstaff:!::\nalice:!::\nbob:!::\n", 0o640)
	if defs {
		r.Write("/etc/login.defs", "UID_MIN 1000\nUID_MAX 60000\nGID_MIN 1000\nGID_MAX 60000\nUSERGROUPS_ENAB yes\nENCRYPT_METHOD SHA512\n", 0o644)
	}
	os.MkdirAll(r.Host("/home"), 0o755)
	os.MkdirAll(r.Host("/etc/skel"), 0o755)
}

// DemoUnit is the unit file of demo.service WithUnits writes; WantsLink is
// the link enabling it makes.
const (
	DemoUnit  = "[Unit]\nDescription=demo\n[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n"
	WantsLink = "/etc/systemd/system/multi-user.target.wants/demo.service"
)

// WithUnits writes the unit files of demo.service (DemoUnit) and
// helper.service under /lib/systemd/system.
func (r *Root) WithUnits() {
	r.t.Helper()
	r.Write("/lib/systemd/system/demo.service", DemoUnit, 0o644)
	r.Write("/lib/systemd/system/helper.service", "[Service]\nExecStart=/bin/true\n", 0o644)
}

// RemoveToolFiles removes what the shadow tools leave in /etc whatever
// they change: their backups (/etc/passwd- ...) and their lock file.
func (r *Root) RemoveToolFiles() {
	for _, f := range AccountFiles {
		os.Remove(r.Host(f + "-"))
	}
	os.Remove(r.Host("/etc/.pwd.lock"))
}

// Accounts returns the contents of the root's account files.
func (r *Root) Accounts() map[string]string {
	r.t.Helper()
	out := map[string]string{}
	for _, f := range AccountFiles {
		b, err := os.ReadFile(r.Host(f))
		if err != nil && !os.IsNotExist(err) {
			r.t.Fatal(err)
		}
		out[f] = string(b)
	}
	return out
}

// SameAccounts fails unless the account files hold exactly want.
func (r *Root) SameAccounts(want map[string]string, when string) {
	r.t.Helper()
	got := r.Accounts()
	for _, f := range AccountFiles {
		if got[f] != want[f] {
			r.t.Errorf("%s: %s is\n%s\nwant\n%s", when, f, got[f], want[f])
		}
	}
}

// Entry returns the line of name in an account file, or "".
func (r *Root) Entry(file, name string) string {
	r.t.Helper()
	for _, l := range strings.Split(r.Read(file), "\n") {
		if strings.HasPrefix(l, name+":") {
			return l
		}
	}
	return ""
}

var blobRE = regexp.MustCompile(`\{([^}]*)\}`)

// List parses steps written in the step language, where {text} stands for
// the store key of text, which put puts in the store.
func List(t testing.TB, put func([]byte) (string, error), text string) *stepfmt.List {
	t.Helper()
	var perr error
	text = blobRE.ReplaceAllStringFunc(text, func(m string) string {
		k, err := put([]byte(m[1 : len(m)-1]))
		if err != nil {
			perr = err
		}
		return k
	})
	if perr != nil {
		t.Fatal(perr)
	}
	l, errs := stepfmt.Parse("test.steps", []byte(text))
	if len(errs) > 0 {
		t.Fatalf("test list does not parse: %v", errs)
	}
	return l
}

// Snapshot describes everything under dir, symlinks not followed: type,
// mode, owner, group and content or link target, one line per entry.
func Snapshot(t testing.TB, dir string) string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		var st syscall.Stat_t
		if err := syscall.Lstat(p, &st); err != nil {
			return err
		}
		desc := fmt.Sprintf("%s %o %d:%d", rel, st.Mode, st.Uid, st.Gid)
		switch st.Mode & syscall.S_IFMT {
		case syscall.S_IFREG:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(b)
			desc += " " + hex.EncodeToString(sum[:8])
		case syscall.S_IFLNK:
			to, _ := os.Readlink(p)
			desc += " -> " + to
		}
		lines = append(lines, desc)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// Mtimes records the mtime, ctime and inode of everything under dir.
func Mtimes(t testing.TB, dir string) map[string][3]int64 {
	t.Helper()
	out := map[string][3]int64{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		var st syscall.Stat_t
		if syscall.Lstat(p, &st) == nil {
			out[p] = [3]int64{st.Mtim.Nano(), st.Ctim.Nano(), int64(st.Ino)}
		}
		return nil
	})
	return out
}

// WantFile fails unless p is a file with content, mode and owner.
func (r *Root) WantFile(p, content string, mode, uid, gid uint32) {
	t := r.t
	t.Helper()
	st := r.Stat(p)
	if st.Mode&0o170000 != 0o100000 {
		t.Fatalf("%s is not a file (mode %o)", p, st.Mode)
	}
	if got := r.Read(p); got != content {
		t.Errorf("%s content = %q, want %q", p, got, content)
	}
	if st.Mode&0o7777 != mode || st.Uid != uid || st.Gid != gid {
		t.Errorf("%s: mode %04o owner %d:%d, want %04o %d:%d", p, st.Mode&0o7777, st.Uid, st.Gid, mode, uid, gid)
	}
}

// WantDir fails unless p is a directory with mode and owner.
func (r *Root) WantDir(p string, mode, uid, gid uint32) {
	t := r.t
	t.Helper()
	st := r.Stat(p)
	if st.Mode&0o170000 != 0o040000 {
		t.Fatalf("%s is not a directory (mode %o)", p, st.Mode)
	}
	if st.Mode&0o7777 != mode || st.Uid != uid || st.Gid != gid {
		t.Errorf("%s: mode %04o owner %d:%d, want %04o %d:%d", p, st.Mode&0o7777, st.Uid, st.Gid, mode, uid, gid)
	}
}

// WantLink fails unless p is a symlink to to, with owner.
func (r *Root) WantLink(p, to string, uid, gid uint32) {
	t := r.t
	t.Helper()
	st := r.Stat(p)
	if st.Mode&0o170000 != 0o120000 {
		t.Fatalf("%s is not a symlink (mode %o)", p, st.Mode)
	}
	if got, _ := os.Readlink(r.Host(p)); got != to {
		t.Errorf("%s -> %q, want %q", p, got, to)
	}
	if st.Uid != uid || st.Gid != gid {
		t.Errorf("%s owner %d:%d, want %d:%d", p, st.Uid, st.Gid, uid, gid)
	}
}
