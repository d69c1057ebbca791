package apply

import (
	"slices"
	"strings"
	"testing"

	sbx "trail/apply/internal/sandbox"
	"trail/apply/kind"
	"trail/apply/kinds/accounts"
)

// accountFiles are the files the shadow tools change.
var accountFiles = sbx.AccountFiles

// acctSandbox is a sandbox whose root also holds /etc/shadow and
// /etc/gshadow, for the shadow tools (see sandbox.Root.WithShadow).
func acctSandbox(t *testing.T, defs bool) *sandbox {
	t.Helper()
	sb := newSandbox(t)
	sb.fs().WithShadow(defs)
	return sb
}

func (sb *sandbox) removeToolFiles()            { sb.fs().RemoveToolFiles() }
func (sb *sandbox) accounts() map[string]string { sb.t.Helper(); return sb.fs().Accounts() }
func (sb *sandbox) sameAccounts(want map[string]string, when string) {
	sb.t.Helper()
	sb.fs().SameAccounts(want, when)
}
func (sb *sandbox) entry(file, name string) string { sb.t.Helper(); return sb.fs().Entry(file, name) }

// Two unrelated steps keep the removal of one account step under the
// mass-removal guard.
const anchors = "DIR /srv/a\nDIR /srv/b\n"

func TestGroupCreateAndReverse(t *testing.T) {
	sb := acctSandbox(t, true)
	before := sb.accounts()
	sb.apply(anchors+"GROUP web gid=1700 members=alice,bob", "c1")
	if got := sb.entry("/etc/group", "web"); got != "web:x:1700:alice,bob" {
		t.Fatalf("group entry = %q", got)
	}
	if d, err := sb.e.Drift(); err != nil || len(d) != 0 {
		t.Fatalf("drift right after apply = %+v, %v", d, err)
	}
	g := sb.apply(anchors+"GROUP web gid=1701 members=bob", "c2")
	if g.Counts.Modified != 1 {
		t.Fatalf("counts = %+v, want one modify", g.Counts)
	}
	if got := sb.entry("/etc/group", "web"); got != "web:x:1701:bob" {
		t.Fatalf("group entry after modify = %q", got)
	}
	sb.apply(anchors, "c3")
	sb.sameAccounts(before, "after the group step was removed")
}

func TestGroupPreExistingEntryComesBack(t *testing.T) {
	sb := acctSandbox(t, true)
	sb.write("/etc/group", "root:x:0:\nstaff:x:50:bob,alice\nalice:x:1000:\nbob:x:1001:\n", 0o644)
	before := sb.accounts()
	sb.apply(anchors+"GROUP staff gid=60 members=alice", "c1")
	if got := sb.entry("/etc/group", "staff"); got != "staff:x:60:alice" {
		t.Fatalf("entry = %q", got)
	}
	// a members change made by hand is drift
	if err := accounts.ShadowTool(sb.e.newExec(), "groupmod", "-U", "alice,bob", "staff"); err != nil {
		t.Fatal(err)
	}
	d, err := sb.e.Drift()
	if err != nil || len(d) != 1 || d[0].ID.String() != "GROUP staff" || strings.Join(d[0].Changed, ",") != "members" {
		t.Fatalf("drift = %+v, %v; want GROUP staff members", d, err)
	}
	sb.apply(anchors, "c2")
	sb.sameAccounts(before, "after the reverse of a step over an existing group")
}

func TestGroupBadInputRefusedAtPlan(t *testing.T) {
	cases := map[string]struct{ step, want string }{
		"gid of another group": {"GROUP web gid=50", "gid 50 already belongs to group staff"},
		"unknown member":       {"GROUP web members=nobody", "member nobody: user \"nobody\" is not in"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			sb := acctSandbox(t, true)
			before := sb.accounts()
			g, err := sb.applyErr(anchors+tc.step, "c1")
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "test.steps:3") {
				t.Fatalf("error = %v; want %q at test.steps:3", err, tc.want)
			}
			if g == nil || g.Result != ResultRefused {
				t.Fatalf("generation = %+v, want refused", g)
			}
			sb.sameAccounts(before, "after a refused apply")
			if sb.exists("/srv/a") {
				t.Fatal("a refused apply made /srv/a")
			}
		})
	}
}

// A member created by a later USER step is only known missing when the
// group runs: the apply fails there and is rolled back.
func TestGroupMemberCreatedLaterFailsAtApply(t *testing.T) {
	sb := acctSandbox(t, true)
	before := sb.accounts()
	p, err := sb.e.Plan(sb.list(anchors + "GROUP devs members=erin\nUSER erin"))
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	if !strings.Contains(strings.Join(p.Work[2].Notes, ";"), "erin is created by this apply") {
		t.Fatalf("plan notes = %q", p.Work[2].Notes)
	}
	g, err := sb.applyErr(anchors+"GROUP devs members=erin\nUSER erin", "c1")
	if err == nil || g.Result != ResultFailed || g.ErrorSource != "test.steps:3" {
		t.Fatalf("apply = %+v, %v; want failed at test.steps:3", g, err)
	}
	if !strings.Contains(err.Error(), "erin") {
		t.Fatalf("error %q does not name the member", err)
	}
	sb.sameAccounts(before, "after the failed apply")
	if sb.exists("/srv/a") {
		t.Fatal("/srv/a left after the rollback")
	}
}

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
		got := accounts.GroupsOf(data, user)
		slices.Sort(got)
		slices.Sort(groups)
		if !slices.Equal(got, groups) {
			t.Fatalf("groupsOf(%q) = %q, parse gives %q", user, got, groups)
		}
	})
}
