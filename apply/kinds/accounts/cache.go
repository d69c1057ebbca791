package accounts

import (
	"bytes"
	"errors"
	"io/fs"
	"strings"

	"trail/apply/kind"
	"trail/internal/fsx"
)

// Every USER and GROUP step reads the account files in its check, its
// capture and its change: a list of thousands of users read files of
// thousands of lines thousands of times. Each file is read once until its
// stat changes (the tools and trail replace it by a rename, so a change
// is a new inode) and indexed when first asked, in the Exec.

// acctFile is an account file of the root as last read, with its index.
type acctFile struct {
	st      fsx.Stat
	data    []byte
	indexed bool
	byName  map[string][]string // the first entry of each name (kind.ParseAccounts)
	byID    map[string][]string // per field 2: the names whose first entry holds it, in file order
	members map[string][]string // per member: the names whose first entry lists it, in file order
}

// acctFileKey keeps a file's acctFile in the Exec.
type acctFileKey string

// loadAccounts returns account file f of the root; a missing one is empty.
func loadAccounts(x *kind.Exec, f string) (*acctFile, error) {
	st, err := x.Root.Lstat(f)
	if errors.Is(err, fs.ErrNotExist) {
		return &acctFile{}, nil
	}
	if err != nil {
		return nil, err
	}
	if c, ok := x.Kept(acctFileKey(f)).(*acctFile); ok && c.st == st {
		return c, nil
	}
	data, err := x.Root.ReadFile(f)
	if errors.Is(err, fs.ErrNotExist) {
		return &acctFile{}, nil
	}
	if err != nil {
		return nil, err
	}
	c := &acctFile{st: st, data: data}
	x.Keep(acctFileKey(f), c)
	return c, nil
}

// index parses the file once: its entries as kind.ParseAccounts reads
// them, the first entry of a name winning.
func (c *acctFile) index() {
	if c.indexed {
		return
	}
	c.indexed = true
	c.byName, c.byID, c.members = map[string][]string{}, map[string][]string{}, map[string][]string{}
	for line := range bytes.SplitSeq(c.data, []byte("\n")) {
		f := strings.Split(string(line), ":")
		if len(f) < 2 || f[0] == "" || strings.HasPrefix(f[0], "+") || strings.HasPrefix(f[0], "-") {
			continue
		}
		if _, dup := c.byName[f[0]]; dup {
			continue
		}
		c.byName[f[0]] = f
		id := kind.FieldAt(f, 2)
		c.byID[id] = append(c.byID[id], f[0])
		if len(f) < 4 {
			continue
		}
		for m := range strings.SplitSeq(f[3], ",") {
			if l := c.members[m]; len(l) == 0 || l[len(l)-1] != f[0] {
				c.members[m] = append(l, f[0])
			}
		}
	}
}

// entry returns the fields of the first entry of name, or nil.
func (c *acctFile) entry(name string) []string {
	c.index()
	return c.byName[name]
}

// holder returns a name other than except whose first entry holds id in
// its third field (a uid or gid), "" when none does.
func (c *acctFile) holder(id, except string) string {
	c.index()
	for _, n := range c.byID[id] {
		if n != except {
			return n
		}
	}
	return ""
}

// groupsOf returns, in file order, the groups whose first entry lists
// user among its members (a group file).
func (c *acctFile) groupsOf(user string) []string {
	c.index()
	return append([]string(nil), c.members[user]...)
}
