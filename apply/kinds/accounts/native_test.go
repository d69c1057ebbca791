package accounts_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"trail/apply/internal/sandbox"
	"trail/apply/internal/sandbox/engine"
)

// debianDefs is the part of Debian bookworm's /etc/login.defs useradd reads.
const debianDefs = `MAIL_DIR        /var/mail
UMASK		022
PASS_MAX_DAYS	99999
PASS_MIN_DAYS	0
PASS_WARN_AGE	7
UID_MIN			 1000
UID_MAX			60000
GID_MIN			 1000
GID_MAX			60000
USERGROUPS_ENAB yes
ENCRYPT_METHOD SHA512
`

// accountsRoot is a root as useradd meets it on Debian: its login.defs
// and default/useradd, a skel of files and symlinks with their own modes
// and times, lastlog and faillog records to clear, subordinate ids, a
// mail spool. With
// tools, it also has the (empty) directories of useradd's and userdel's
// pre-run hooks, which the tools run and trail leaves to them, and a
// MAX_MEMBERS_PER_GROUP no group here reaches: every account is made and
// removed by the shadow tools, one call each.
func accountsRoot(t *testing.T, tools bool) *engine.Sandbox {
	sb := engine.NewAccounts(t, true)
	sb.Write("/etc/login.defs", debianDefs, 0o644)
	sb.Write("/etc/default/useradd", "SHELL=/bin/sh\n", 0o644)
	sb.Write("/etc/group", sandbox.Group+"mail:x:8:\nusers:x:100:\nhank:x:1700:\n", 0o644)
	sb.Write("/etc/gshadow", "root:*::\nstaff:!::\nalice:!::\nbob:!::\nmail:!:dave:\nusers:!::\nhank:!::\n", 0o640)
	old := time.Date(2020, 1, 2, 3, 4, 5, 600, time.UTC)
	for _, f := range []struct {
		name, body string
		mode       os.FileMode
	}{{".bashrc", "# bashrc\n", 0o644}, {".profile", "# profile\n", 0o600}, {"tool", "#!/bin/sh\n", 0o755}} {
		sb.Write("/etc/skel/"+f.name, f.body, f.mode)
		os.Chtimes(sb.Host("/etc/skel/"+f.name), old, old)
	}
	for link, to := range map[string]string{".link": ".bashrc", ".abs": "/etc/skel/.profile"} {
		if err := os.Symlink(to, sb.Host("/etc/skel/"+link)); err != nil {
			t.Fatal(err)
		}
		tv := []unix.Timeval{unix.NsecToTimeval(old.UnixNano()), unix.NsecToTimeval(old.UnixNano())}
		if err := unix.Lutimes(sb.Host("/etc/skel/"+link), tv); err != nil {
			t.Fatal(err)
		}
	}
	// unsorted, with a hole one range wide: the first new user fills it
	sb.Write("/etc/subuid", "bob:231072:65536\nalice:100000:65536\n", 0o644)
	sb.Write("/etc/subgid", "alice:100000:65536\n", 0o644)
	os.MkdirAll(sb.Host("/var/mail"), 0o2775)
	os.MkdirAll(sb.Host("/var/log"), 0o755)
	full := bytes.Repeat([]byte{0xff}, 292*2000)
	sb.Write("/var/log/lastlog", string(full), 0o664)
	sb.Write("/var/log/faillog", string(full[:32*2000]), 0o644)
	if tools {
		os.MkdirAll(sb.Host("/etc/shadow-maint/useradd-pre.d"), 0o755)
		os.MkdirAll(sb.Host("/etc/shadow-maint/userdel-pre.d"), 0o755)
		sb.Write("/etc/login.defs", debianDefs+"MAX_MEMBERS_PER_GROUP 100\n", 0o644)
	}
	sb.Opts.AllowMassRemoval = true
	sb.Open()
	return sb
}

// sameRoots fails unless two roots hold the same account files, homes
// (down to the mtime of what skel gave them), logs and mail spool.
func sameRoots(t *testing.T, a, b *engine.Sandbox, when string) {
	t.Helper()
	a.SameAccounts(b.Accounts(), when+": the account files trail wrote differ from useradd's")
	for _, d := range []string{"/home", "/srv", "/var/lib", "/var/mail"} {
		if got, want := sandbox.Snapshot(t, a.Host(d)), sandbox.Snapshot(t, b.Host(d)); got != want {
			t.Errorf("%s: %s is\n%s\nwant (useradd's)\n%s", when, d, got, want)
		}
	}
	ma, mb := sandbox.Mtimes(t, a.Host("/home")), sandbox.Mtimes(t, b.Host("/home"))
	for p, m := range ma {
		rel, _ := filepath.Rel(a.Host("/home"), p)
		if st, err := os.Lstat(p); err == nil && !st.IsDir() && m[0] != mb[b.Host("/home/"+rel)][0] {
			t.Errorf("%s: /home/%s mtime %d, useradd's %d", when, rel, m[0], mb[b.Host("/home/"+rel)][0])
		}
	}
	for _, f := range []string{"/var/log/lastlog", "/var/log/faillog", "/etc/subuid", "/etc/subgid"} {
		if a.Read(f) != b.Read(f) {
			t.Errorf("%s: %s differs from useradd's", when, f)
		}
	}
}

// TestNativeAccountsAsTools: the users and groups trail writes itself
// are, byte for byte, those useradd and groupadd write, one call each — entries, ids, homes from
// skel, cleared log records — on a first apply and on one that creates a
// user while users created after it in the list are there already; the
// users trail removes itself leave the files as userdel leaves them.
func TestNativeAccountsAsTools(t *testing.T) {
	a, b := accountsRoot(t, false), accountsRoot(t, true)
	before := a.Accounts()["/etc/passwd"]
	list := engine.Anchors + `GROUP web
GROUP sysg system=true
USER svc1 system=true
USER svc2 system=true home=/var/lib/svc2
USER carol
USER dave groups=staff,mail comment="Dave D" shell=/bin/bash password=$6$salt$hash
USER erin uid=1500 group=users home=/srv/people/erin
USER frank uid=1600 groups=users,staff,web
USER gina group=staff system=true uid=300
USER hank
GROUP ops gid=1800 members=dave,carol
GROUP ops2 members=hank,carol,hank
`
	a.Apply(list, "c1")
	b.Apply(list, "c1")
	sameRoots(t, a, b, "first apply")
	if got := a.Read("/etc/passwd-"); got != before {
		t.Fatalf("/etc/passwd- is\n%s\nwant the file before the apply: trail did not write the users in one go", got)
	}
	if strings.Contains(a.Read("/etc/group-"), "\nops:") {
		t.Fatal("/etc/group- holds group ops: trail did not write the last two groups in one go")
	}
	if b.Read("/etc/passwd-") == before {
		t.Fatal("with useradd's hooks in the root, trail still wrote the users itself")
	}
	if got := a.Entry("/etc/passwd", "carol"); got != "carol:x:1002:1002::/home/carol:/bin/sh" {
		t.Fatalf("carol = %q", got)
	}

	list2 := engine.Anchors + `GROUP early
GROUP web
GROUP sysg system=true
USER svc1 system=true
USER zed
USER svc2 system=true home=/var/lib/svc2
USER carol
USER dave groups=staff,mail comment="Dave D" shell=/bin/bash password=$6$salt$hash
USER erin uid=1500 group=users home=/srv/people/erin
USER frank uid=1600 groups=users,staff,web
USER gina group=staff system=true uid=300
USER hank
GROUP ops gid=1800 members=dave,carol
GROUP ops2 members=hank,carol,hank
USER ivan system=true
`
	a.Apply(list2, "c2")
	b.Apply(list2, "c2")
	sameRoots(t, a, b, "users inserted before those created")

	before = a.Accounts()["/etc/passwd"]
	list3 := engine.Anchors + `GROUP web
GROUP sysg system=true
USER svc1 system=true
USER erin uid=1500 group=users home=/srv/people/erin
USER frank uid=1600 groups=users,staff
USER ivan system=true
`
	a.Apply(list3, "c3")
	b.Apply(list3, "c3")
	sameRoots(t, a, b, "users removed")
	if got := a.Read("/etc/passwd-"); got != before {
		t.Fatalf("/etc/passwd- is\n%s\nwant the file before the apply: trail did not remove the users in one go", got)
	}
	if a.Entry("/etc/group", "hank") != "hank:x:1700:" || a.Entry("/etc/group", "carol") != "" {
		t.Fatalf("after the removal: hank's group %q (there before: kept), carol's %q (trail's: removed)", a.Entry("/etc/group", "hank"), a.Entry("/etc/group", "carol"))
	}
}

// TestGroupErrorAtItsStep: a user of a batch that useradd refuses (here:
// no subordinate ids are left for it) fails the apply at its own step,
// not at the batch's first step with every other one named.
func TestGroupErrorAtItsStep(t *testing.T) {
	sb := engine.NewAccounts(t, true)
	sb.Write("/etc/login.defs", debianDefs+"SUB_UID_MIN 100000\nSUB_UID_MAX 165535\n", 0o644)
	sb.Write("/etc/subuid", "", 0o644)
	before := sb.Accounts()
	_, err := sb.ApplyErr(engine.Anchors+"USER ann\nUSER ben\nUSER cat\n", "c1")
	if err == nil || !strings.Contains(err.Error(), "USER ben: useradd") || strings.Contains(err.Error(), "together with") {
		t.Fatalf("apply error = %v; want it at USER ben, from useradd", err)
	}
	sb.SameAccounts(before, "after the failed apply")
}

// TestFailedApplyKeepsSubIDs: a batch whose first user trail wrote with
// its subordinate ids, and whose next useradd refuses, is rolled back
// with /etc/subuid as it was: the undo image holds the files of
// subordinate ids too, or the user gone would keep its range.
func TestFailedApplyKeepsSubIDs(t *testing.T) {
	sb := engine.NewAccounts(t, true)
	sb.Write("/etc/login.defs", debianDefs+"SUB_UID_MIN 100000\nSUB_UID_MAX 165535\n", 0o644)
	sb.Write("/etc/subuid", "", 0o644)
	if _, err := sb.ApplyErr(engine.Anchors+"USER ann\nUSER ben\n", "c1"); err == nil {
		t.Fatal("the apply succeeded; want useradd to refuse ben (no subordinate uids left)")
	}
	if got := sb.Read("/etc/subuid"); got != "" {
		t.Fatalf("/etc/subuid after the rolled-back apply is %q, want it empty as before", got)
	}
}

// TestNativeHomeThroughSymlink: a home whose parent in the root is a
// symlink (/home -> /srv/homes) is made where useradd --root makes it,
// through the link inside the root, and the apply does not fail.
func TestNativeHomeThroughSymlink(t *testing.T) {
	sb := engine.NewAccounts(t, true)
	sb.Write("/etc/login.defs", debianDefs, 0o644)
	sb.Write("/etc/skel/.bashrc", "# bashrc\n", 0o644)
	os.MkdirAll(sb.Host("/srv/homes"), 0o755)
	os.Remove(sb.Host("/home"))
	if err := os.Symlink("/srv/homes", sb.Host("/home")); err != nil {
		t.Fatal(err)
	}
	if _, err := sb.ApplyErr(engine.Anchors+"USER carol\n", "c1"); err != nil {
		t.Fatalf("apply: %v", err)
	}
	if got := sb.Read("/srv/homes/carol/.bashrc"); got != "# bashrc\n" {
		t.Fatalf("/srv/homes/carol/.bashrc = %q, want skel's", got)
	}
}

// TestNativeSkelInsideRoot: a skel directory reached through an absolute
// symlink in the root is read inside the root, as useradd --root reads
// it, never at the host's path the link names.
func TestNativeSkelInsideRoot(t *testing.T) {
	sb := engine.NewAccounts(t, true)
	sb.Write("/etc/login.defs", debianDefs, 0o644)
	sb.Write("/etc/default/useradd", "SKEL=/skels/skel\n", 0o644)
	sb.Write("/data/trail-skel-test/skel/.marker", "inside the root\n", 0o644)
	if err := os.Symlink("/data/trail-skel-test", sb.Host("/skels")); err != nil {
		t.Fatal(err)
	}
	if _, err := sb.ApplyErr(engine.Anchors+"USER carol\n", "c1"); err != nil {
		t.Fatalf("apply: %v", err)
	}
	if got := sb.Read("/home/carol/.marker"); got != "inside the root\n" {
		t.Fatalf("/home/carol/.marker = %q, want the root's skel copied", got)
	}
}
