package accounts

import (
	"slices"
	"strings"
	"testing"

	"trail/apply/kind"
)

func TestParseAccounts(t *testing.T) {
	db := kind.ParseAccounts([]byte("root:x:0:\n\nbroken\n+nis\nstaff:x:50:a,b\nstaff:x:51:\n:x:1:\n"))
	if len(db) != 2 || kind.FieldAt(db["staff"], 2) != "50" || kind.FieldAt(db["staff"], 3) != "a,b" || kind.FieldAt(db["root"], 9) != "" {
		t.Fatalf("parseAccounts = %q", db)
	}
}

// FuzzParseAccounts checks the account file readers against each other:
// the entry of one name, the holder of an id and the groups a user is in
// read the same from the file's index as from a parse of it whole.
func FuzzParseAccounts(f *testing.F) {
	f.Add([]byte("root:x:0:0:root:/root:/bin/bash\nstaff:x:50:a,b\n"), "a")
	f.Add([]byte("::::\n:\n\n+:x\n"), "")
	f.Add([]byte("g:x:1:a,b,a\ng:x:2:c\nh:x:3:a:extra\n"), "a")
	f.Add([]byte("a:x:7:7\nb:x:8:8\nb:x:7:7\nc:x:8\n"), "a")
	f.Fuzz(func(t *testing.T, data []byte, user string) {
		db := kind.ParseAccounts(data)
		c := &acctFile{data: data}
		var groups []string
		for name, fields := range db {
			if name == "" || fields[0] != name || strings.ContainsAny(name, ":\n") {
				t.Fatalf("entry %q: %q", name, fields)
			}
			if got := kind.EntryOf(data, name); !slices.Equal(got, fields) {
				t.Fatalf("entryOf(%q) = %q, parse gives %q", name, got, fields)
			}
			if len(fields) >= 4 && slices.Contains(strings.Split(fields[3], ","), user) {
				groups = append(groups, name)
			}
		}
		for name, fields := range db {
			uid := kind.FieldAt(fields, 2)
			if uid == "" {
				continue
			}
			holders := map[string]bool{}
			for n, f := range db {
				if n != user && kind.FieldAt(f, 2) == uid {
					holders[n] = true
				}
			}
			if h := c.holder(uid, user); h == "" && len(holders) > 0 || h != "" && !holders[h] {
				t.Fatalf("holder(%q, except %q) = %q, parse gives %v (entry %q)", uid, user, h, holders, name)
			}
		}
		for name, fields := range db {
			if got := c.entry(name); !slices.Equal(got, fields) {
				t.Fatalf("entry(%q) = %q, parse gives %q", name, got, fields)
			}
		}
		got := c.groupsOf(user)
		slices.Sort(got)
		slices.Sort(groups)
		if !slices.Equal(got, groups) {
			t.Fatalf("groupsOf(%q) = %q, parse gives %q", user, got, groups)
		}
	})
}
