package kind

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"trail/internal/fsx"
)

// accounts resolves user and group names against the root's /etc/passwd
// and /etc/group, never the host's: a sandbox or image root has its own.
// A file is read again when its stat changes (a USER step added a user).
type accounts struct {
	users, groups map[string]uint32
	ust, gst      fsx.Stat
	uok, gok      bool
}

// ErrPlanned marks a name the list being applied creates.
var ErrPlanned = errors.New("created by this apply")

// UID resolves an owner: a number, or a user name in the root's /etc/passwd.
func (x *Exec) UID(name string) (uint32, error) {
	return x.resolve(name, "user", "/etc/passwd", &x.acct.users, &x.acct.ust, &x.acct.uok)
}

// GID resolves a group: a number, or a group name in the root's /etc/group.
func (x *Exec) GID(name string) (uint32, error) {
	return x.resolve(name, "group", "/etc/group", &x.acct.groups, &x.acct.gst, &x.acct.gok)
}

func (x *Exec) resolve(name, what, file string, m *map[string]uint32, st *fsx.Stat, ok *bool) (uint32, error) {
	if n, err := strconv.ParseUint(name, 10, 32); err == nil {
		return uint32(n), nil
	}
	if err := x.loadIDs(file, m, st, ok); err != nil {
		return 0, err
	}
	if id, found := (*m)[name]; found {
		return id, nil
	}
	if x.planned[what+":"+name] {
		return 0, ErrPlanned
	}
	return 0, fmt.Errorf("%s %q is not in %s: create it first (a %s step before this one) or use a numeric id",
		what, name, x.Root.Host(file), map[string]string{"user": "USER", "group": "GROUP"}[what])
}

// loadIDs (re)reads a passwd-format file when it changed since last read.
func (x *Exec) loadIDs(file string, m *map[string]uint32, st *fsx.Stat, ok *bool) error {
	cur, err := x.Root.Lstat(file)
	if errors.Is(err, fs.ErrNotExist) {
		*m, *ok, *st = map[string]uint32{}, true, fsx.Stat{}
		return nil
	}
	if err != nil {
		return err
	}
	if *ok && cur == *st {
		return nil
	}
	data, err := x.Root.ReadFile(file)
	if err != nil {
		return err
	}
	*m, *st, *ok = ParseIDs(data), cur, true
	return nil
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
