package accounts

import (
	"bytes"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"trail/apply/kind"
	"trail/internal/fsx"
)

// useradd takes ~9 ms a call, most of it reading and rewriting the four
// account files whole, so a list of 10,000 users would take minutes. A
// run of new users in one batch is therefore written by trail itself, as
// useradd writes them (shadow 4.13, as Debian bookworm ships it): under
// its locks (lock.go), each file read once, the entries appended in the
// order useradd appends them, the files replaced once by a durable
// rename, each leaving the previous content as NAME- as the tools do.
//
// Ids are chosen as useradd chooses them (find_new_uid, find_new_gid,
// from login.defs' ranges; a user's own group prefers its uid as gid),
// the shadow entry carries the same fields (today, and login.defs'
// PASS_* ages for a user that is not a system user), a home is made as
// useradd -m makes it (parents 0755 root, the home HOME_MODE or 0777 less
// UMASK, /etc/skel copied with its modes and times, owned by the user),
// lastlog and faillog entries of the uid are cleared, and a user that is
// not a system user gets its subordinate uids and gids in /etc/subuid and
// /etc/subgid when they are there (subids.go). nscd's passwd
// and group caches and sssd's are flushed, as useradd flushes them, when
// the root is "/". useradd's syslog lines are not written: the apply's
// journal and events record each user.
//
// Whatever the fast path does not model exactly is left to useradd, one
// call per user: a name outside [a-z_][a-z0-9_-]*, an id or group the
// tool would refuse, a mail spool, tcb shadow,
// MAX_MEMBERS_PER_GROUP, an INACTIVE or EXPIRE default, the shadow-maint
// hook directories, pam_tally2, a home below a symlink, a skel holding
// anything but files, directories and symlinks, and account files
// holding NIS lines or not ending in a newline.

// native is the account files of the root held in memory, locked, while
// trail adds users to them.
type native struct {
	x      *kind.Exec
	defs   *toolDefs
	files  map[string]*nfile
	unlock func()
	today  string
	skel   *skelTree // nil until a user needs it
	fresh  *freshCut // ids as a fresh apply gives them, when accounts created later are there

	procUIDs map[string]bool     // what userdel checks, read when first asked
	subs     map[string]*subFile // /etc/subuid and /etc/subgid, read when first asked
}

// nfile is one account file in memory.
type nfile struct {
	st      fsx.Stat
	old     []byte
	lines   []string       // without their newline; a removed one is gone
	first   map[string]int // the line of the first entry of each name
	dups    map[string]bool
	ids     map[uint64]int // how many entries hold each id (field 3)
	spans   map[[2]uint64]*span
	changed bool
	members map[string][]int // per user, the lines listing it (built when first asked)
	primary map[string]int   // per gid, the entries holding it (passwd; built when first asked)
}

// gone marks a removed line.
const gone = "\x00"

// nativeTool names the tool whose work a native run does.
type nativeTool int

const (
	doUseradd nativeTool = iota
	doUserdel
	doGroupadd // and groupdel
)

// openNative locks and reads the root's account files for native
// writing of tool's work; nil when the root's setup is one the fast path
// leaves to the tools.
func openNative(x *kind.Exec, tool nativeTool) (*native, error) {
	d, err := readToolDefs(x)
	if err != nil {
		return nil, err
	}
	ok := d.num("MAX_MEMBERS_PER_GROUP", 0) <= 0
	switch tool {
	case doUseradd:
		ok = ok && nativeDefs(x, d)
	case doUserdel:
		ok = ok && nativeDelDefs(x, d)
	}
	if !ok {
		return nil, nil
	}
	unlock, err := LockAccounts(x, subFiles...)
	if err != nil {
		return nil, err
	}
	n := &native{x: x, defs: d, files: map[string]*nfile{}, unlock: unlock}
	for _, f := range shadowFiles {
		nf, ok, err := readNfile(x, f)
		if err != nil || !ok {
			unlock()
			return nil, err
		}
		n.files[f] = nf
	}
	day := time.Now().Unix() / 86400
	n.today = strconv.FormatInt(day, 10)
	if day == 0 {
		n.today = ""
	}
	n.fresh = newFreshCut(x, n)
	return n, nil
}

// nativeDefs reports whether the root's tool settings are ones the fast
// path writes as useradd does.
func nativeDefs(x *kind.Exec, d *toolDefs) bool {
	if d.yes("USE_TCB") {
		return false
	}
	if v, ok := d.dflt["INACTIVE"]; ok && v != "-1" {
		return false
	}
	if v, ok := d.dflt["EXPIRE"]; ok && v != "" {
		return false
	}
	if v, ok := d.dflt["LOG_INIT"]; ok && v != "yes" {
		return false
	}
	for _, p := range []string{"/etc/shadow-maint/useradd-pre.d", "/etc/shadow-maint/useradd-post.d", "/sbin/pam_tally2"} {
		if _, err := x.Root.Lstat(p); err == nil {
			return false
		}
	}
	return true
}

// readNfile reads account file f; ok is false when it is not a regular
// file ending in a newline, or holds NIS lines, which commonio treats
// apart.
func readNfile(x *kind.Exec, f string) (*nfile, bool, error) {
	st, err := x.Root.Lstat(f)
	if err != nil || st.Type != fsx.Regular {
		return nil, false, nil
	}
	data, err := x.Root.ReadFile(f)
	if err != nil {
		return nil, false, err
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		return nil, false, nil
	}
	nf := &nfile{st: st, old: data, first: map[string]int{}, dups: map[string]bool{}, ids: map[uint64]int{}}
	text := strings.TrimSuffix(string(data), "\n")
	if len(data) > 0 {
		nf.lines = strings.Split(text, "\n")
	}
	for i, l := range nf.lines {
		if strings.HasPrefix(l, "+") || strings.HasPrefix(l, "-") {
			return nil, false, nil
		}
		nf.note(i, l)
	}
	return nf, true, nil
}

// note indexes line i.
func (nf *nfile) note(i int, l string) {
	f := strings.SplitN(l, ":", 4)
	if len(f) < 2 || f[0] == "" {
		return
	}
	if _, dup := nf.first[f[0]]; dup {
		nf.dups[f[0]] = true
	} else {
		nf.first[f[0]] = i
	}
	if len(f) > 2 {
		if id, err := strconv.ParseUint(f[2], 10, 32); err == nil {
			nf.ids[id]++
			for r, sp := range nf.spans {
				sp.add(r, id)
			}
		}
	}
}

// add appends a line.
func (nf *nfile) add(l string) {
	nf.lines = append(nf.lines, l)
	nf.note(len(nf.lines)-1, l)
	nf.changed = true
}

// fields returns the fields of the first entry of name, or nil.
func (nf *nfile) fields(name string) []string {
	i, ok := nf.first[name]
	if !ok {
		return nil
	}
	return strings.Split(nf.lines[i], ":")
}

// addMember adds user to the member list (the last of four fields) of
// group name's entry, as useradd -G does (the caller has seen that the
// entry is the only one of its name and has four fields).
func (nf *nfile) addMember(name, user string) {
	i, ok := nf.first[name]
	if !ok {
		return
	}
	f := strings.Split(nf.lines[i], ":")
	ms := kind.SplitNames(f[3])
	if slices.Contains(ms, user) {
		return
	}
	f[3] = strings.Join(append(ms, user), ",")
	nf.set(i, strings.Join(f, ":"))
}

// set replaces line i, keeping the members index (if built) in step.
func (nf *nfile) set(i int, l string) {
	nf.lines[i], nf.changed = l, true
	if nf.members == nil {
		return
	}
	f := strings.Split(l, ":")
	for _, m := range memberFields(f) {
		if ls := nf.members[m]; !slices.Contains(ls, i) {
			nf.members[m] = append(ls, i)
		}
	}
}

// text is the file's content: its lines but the removed ones.
func (nf *nfile) text() string {
	var b strings.Builder
	b.Grow(len(nf.old) + 64*len(nf.lines))
	for _, l := range nf.lines {
		if l != gone {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// commit writes the changed files (each leaving its old content as
// NAME-, with its mode, owner and times, as commonio does), makes them
// durable and releases the locks.
func (n *native) commit() error {
	defer n.unlock()
	r := n.x.Root
	type out struct {
		f    string
		st   fsx.Stat
		old  []byte
		text func() string
	}
	var outs []out
	for _, f := range shadowFiles {
		if nf := n.files[f]; nf.changed {
			outs = append(outs, out{f, nf.st, nf.old, nf.text})
		}
	}
	for _, f := range subFiles {
		if sf := n.subs[f]; sf != nil && sf.changed {
			outs = append(outs, out{f, sf.st, sf.old, sf.text})
		}
	}
	for _, o := range outs {
		err := r.Stage(o.f+"-", bytes.NewReader(o.old), o.st.Mode, o.st.UID, o.st.GID)
		if err == nil {
			err = r.Stage(o.f, strings.NewReader(o.text()), o.st.Mode, o.st.UID, o.st.GID)
		}
		if err != nil {
			r.Abort()
			return err
		}
	}
	if err := r.Flush(); err != nil {
		return err
	}
	for _, o := range outs {
		t := time.Unix(0, o.st.Mtime)
		os.Chtimes(r.Host(o.f+"-"), t, t) // as commonio's backup: a failure costs nothing
	}
	n.flushCaches()
	return nil
}

// abort releases the locks without writing.
func (n *native) abort() { n.unlock() }

// flushCaches invalidates nscd's and sssd's caches of users and groups,
// as useradd does, on the running system.
func (n *native) flushCaches() {
	if n.x.Root.Dir() != "/" {
		return
	}
	run := func(tool string, args ...string) {
		if _, err := os.Stat(tool); err == nil {
			cmd := exec.Command(tool, args...)
			cmd.Env = []string{"LC_ALL=C", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
			cmd.Run() // as useradd: a cache that cannot be flushed expires on its own
		}
	}
	run("/usr/sbin/nscd", "-i", "passwd")
	run("/usr/sbin/nscd", "-i", "group")
	run("/usr/sbin/sss_cache", "-UG")
}
