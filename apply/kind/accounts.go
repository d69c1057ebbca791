package kind

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
)

// accounts resolves user and group names against the root's /etc/passwd
// and /etc/group, never the host's: a sandbox or image root has its own.
// A file read is kept until the engine says accounts may have changed
// (ForgetAccounts), not checked by a stat per name: a first apply of a
// large tree would stat both files for every path, in its plan and in its
// run, and a stat can miss a rewrite in place within the same clock tick.
type accounts struct {
	users, groups idFile
}

// idFile is an account file's names and ids as last read.
type idFile struct {
	ids map[string]uint32
	ok  bool // ids were read since the last ForgetAccounts
}

// ErrPlanned marks a name the list being applied creates.
var ErrPlanned = errors.New("created by this apply")

// ForgetAccounts makes the next name resolution read the account files
// again. The engine calls it at the start of every batch of changes (a
// path batch writes no account file before its end), after every change
// that may touch the accounts (any kind but a path, and a path on an
// account file or a directory above one) and before every step of an
// undo.
func (x *Exec) ForgetAccounts() {
	x.acct.users, x.acct.groups = idFile{}, idFile{}
}

// UID resolves an owner: a number, or a user name in the root's /etc/passwd.
func (x *Exec) UID(name string) (uint32, error) {
	return x.resolve(name, "user", "/etc/passwd", &x.acct.users)
}

// GID resolves a group: a number, or a group name in the root's /etc/group.
func (x *Exec) GID(name string) (uint32, error) {
	return x.resolve(name, "group", "/etc/group", &x.acct.groups)
}

func (x *Exec) resolve(name, what, file string, f *idFile) (uint32, error) {
	if n, ok := NumericID(name); ok {
		return n, nil
	}
	if err := x.loadIDs(file, f); err != nil {
		return 0, err
	}
	if id, found := f.ids[name]; found {
		return id, nil
	}
	if x.planned[what+":"+name] {
		return 0, ErrPlanned
	}
	return 0, fmt.Errorf("%s %q is not in %s: create it first (a %s step before this one) or use a numeric id",
		what, name, x.Root.Host(file), map[string]string{"user": "USER", "group": "GROUP"}[what])
}

// NumericID reads an owner or group given as a number, as
// strconv.ParseUint(name, 10, 32) does, but without allocating the error
// every name that is not a number would cost: a tree of 100,000 files
// owned by root resolves "root" twice per file.
func NumericID(name string) (uint32, bool) {
	if name == "" {
		return 0, false
	}
	for i := 0; i < len(name); i++ {
		if name[i] < '0' || name[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(name, 10, 32)
	return uint32(n), err == nil
}

// loadIDs reads a passwd-format file unless it was read since the last
// ForgetAccounts; a missing file holds no names.
func (x *Exec) loadIDs(file string, f *idFile) error {
	if f.ok {
		return nil
	}
	data, err := x.Root.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		data, err = nil, nil
	}
	if err != nil {
		return err
	}
	*f = idFile{ids: ParseIDs(data), ok: true}
	return nil
}

// AccountFile reports whether a path step on target may change an account
// file names resolve in: the file itself or a directory above it.
func AccountFile(target string) bool {
	for _, f := range []string{"/etc/passwd", "/etc/group"} {
		if target == f || target == "/" || strings.HasPrefix(f, target+"/") {
			return true
		}
	}
	return false
}

// ParseIDs reads name:x:id:... lines (passwd and group share the first
// three fields); broken lines are skipped as the C library skips them.
func ParseIDs(data []byte) map[string]uint32 {
	out := make(map[string]uint32)
	for line := range bytes.SplitSeq(data, []byte("\n")) {
		f := bytes.SplitN(line, []byte(":"), 4)
		if len(f) < 3 || len(f[0]) == 0 {
			continue
		}
		id, err := strconv.ParseUint(string(f[2]), 10, 32)
		if err != nil {
			continue
		}
		if _, dup := out[string(f[0])]; !dup {
			out[string(f[0])] = uint32(id)
		}
	}
	return out
}

// The account files are read here for every kind: owner and group names
// resolved for paths (above), entries for USER and GROUP, the names a
// package's maintainer scripts added.

// EntryOf returns the fields of the first entry of name in an account
// file, or nil: what ParseAccounts(data)[name] is, without parsing the
// other entries (a drift check reads one entry of files of thousands).
func EntryOf(data []byte, name string) []string {
	for line := range bytes.SplitSeq(data, []byte("\n")) {
		if len(line) > len(name) && line[len(name)] == ':' && string(line[:len(name)]) == name {
			return strings.Split(string(line), ":")
		}
	}
	return nil
}

// ParseAccounts reads an account file (passwd, group, shadow or gshadow)
// into its fields by name; lines that are not entries (and NIS "+" and
// "-" lines) are skipped, as the C library skips them, and the first entry
// of a name wins.
func ParseAccounts(data []byte) map[string][]string {
	out := make(map[string][]string)
	for line := range bytes.SplitSeq(data, []byte("\n")) {
		f := strings.Split(string(line), ":")
		if len(f) < 2 || f[0] == "" || strings.HasPrefix(f[0], "+") || strings.HasPrefix(f[0], "-") {
			continue
		}
		if _, dup := out[f[0]]; !dup {
			out[f[0]] = f
		}
	}
	return out
}

// FieldAt returns field i of an entry, "" when it has fewer.
func FieldAt(f []string, i int) string {
	if i < len(f) {
		return f[i]
	}
	return ""
}

// AccountNames returns the names an account file holds, in file order.
func AccountNames(data []byte) []string {
	var out []string
	for line := range bytes.SplitSeq(data, []byte("\n")) {
		if name, _, ok := bytes.Cut(line, []byte(":")); ok && len(name) > 0 {
			out = append(out, string(name))
		}
	}
	return out
}
