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
// the entry of one name and the groups a user is in read the same as a
// parse of the whole file.
func FuzzParseAccounts(f *testing.F) {
	f.Add([]byte("root:x:0:0:root:/root:/bin/bash\nstaff:x:50:a,b\n"), "a")
	f.Add([]byte("::::\n:\n\n+:x\n"), "")
	f.Add([]byte("g:x:1:a,b,a\ng:x:2:c\nh:x:3:a:extra\n"), "a")
	f.Fuzz(func(t *testing.T, data []byte, user string) {
		db := kind.ParseAccounts(data)
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
		got := GroupsOf(data, user)
		slices.Sort(got)
		slices.Sort(groups)
		if !slices.Equal(got, groups) {
			t.Fatalf("groupsOf(%q) = %q, parse gives %q", user, got, groups)
		}
	})
}
