package kind

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"strconv"

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
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
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
