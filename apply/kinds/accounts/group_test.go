package accounts_test

import (
	"strings"
	"testing"

	"trail/apply"
	"trail/apply/internal/sandbox/engine"
	"trail/apply/kinds/accounts"
)

func TestGroupCreateAndReverse(t *testing.T) {
	sb := engine.NewAccounts(t, true)
	before := sb.Accounts()
	sb.Apply(engine.Anchors+"GROUP web gid=1700 members=alice,bob", "c1")
	if got := sb.Entry("/etc/group", "web"); got != "web:x:1700:alice,bob" {
		t.Fatalf("group entry = %q", got)
	}
	if d, err := sb.E.Drift(); err != nil || len(d) != 0 {
		t.Fatalf("drift right after apply = %+v, %v", d, err)
	}
	g := sb.Apply(engine.Anchors+"GROUP web gid=1701 members=bob", "c2")
	if g.Counts.Modified != 1 {
		t.Fatalf("counts = %+v, want one modify", g.Counts)
	}
	if got := sb.Entry("/etc/group", "web"); got != "web:x:1701:bob" {
		t.Fatalf("group entry after modify = %q", got)
	}
	sb.Apply(engine.Anchors, "c3")
	sb.SameAccounts(before, "after the group step was removed")
}

func TestGroupPreExistingEntryComesBack(t *testing.T) {
	sb := engine.NewAccounts(t, true)
	sb.Write("/etc/group", "root:x:0:\nstaff:x:50:bob,alice\nalice:x:1000:\nbob:x:1001:\n", 0o644)
	before := sb.Accounts()
	sb.Apply(engine.Anchors+"GROUP staff gid=60 members=alice", "c1")
	if got := sb.Entry("/etc/group", "staff"); got != "staff:x:60:alice" {
		t.Fatalf("entry = %q", got)
	}
	// a members change made by hand is drift
	if err := accounts.ShadowTool(sb.Exec(), "groupmod", "-U", "alice,bob", "staff"); err != nil {
		t.Fatal(err)
	}
	d, err := sb.E.Drift()
	if err != nil || len(d) != 1 || d[0].ID.String() != "GROUP staff" || strings.Join(d[0].Changed, ",") != "members" {
		t.Fatalf("drift = %+v, %v; want GROUP staff members", d, err)
	}
	sb.Apply(engine.Anchors, "c2")
	sb.SameAccounts(before, "after the reverse of a step over an existing group")
}

// refusedAtPlan applies step after the anchors and wants it refused at
// its line with want in the error, the account files untouched.
func refusedAtPlan(t *testing.T, step, want string) (*engine.Sandbox, error) {
	t.Helper()
	sb := engine.NewAccounts(t, true)
	before := sb.Accounts()
	g, err := sb.ApplyErr(engine.Anchors+step, "c1")
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "test.steps:3") {
		t.Fatalf("error = %v; want %q at test.steps:3", err, want)
	}
	if g == nil || g.Result != apply.ResultRefused {
		t.Fatalf("generation = %+v, want refused", g)
	}
	sb.SameAccounts(before, "after a refused apply")
	return sb, err
}

func TestGroupBadInputRefusedAtPlan(t *testing.T) {
	cases := map[string]struct{ step, want string }{
		"gid of another group": {"GROUP web gid=50", "gid 50 already belongs to group staff"},
		"unknown member":       {"GROUP web members=nobody", "member nobody: user \"nobody\" is not in"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			sb, _ := refusedAtPlan(t, tc.step, tc.want)
			if sb.Exists("/srv/a") {
				t.Fatal("a refused apply made /srv/a")
			}
		})
	}
}

// A member created by a later USER step is only known missing when the
// group runs: the apply fails there and is rolled back.
func TestGroupMemberCreatedLaterFailsAtApply(t *testing.T) {
	sb := engine.NewAccounts(t, true)
	before := sb.Accounts()
	p, err := sb.E.Plan(sb.List(engine.Anchors + "GROUP devs members=erin\nUSER erin"))
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	if !strings.Contains(strings.Join(p.Work[2].Notes, ";"), "erin is created by this apply") {
		t.Fatalf("plan notes = %q", p.Work[2].Notes)
	}
	g, err := sb.ApplyErr(engine.Anchors+"GROUP devs members=erin\nUSER erin", "c1")
	if err == nil || g.Result != apply.ResultFailed || g.ErrorSource != "test.steps:3" {
		t.Fatalf("apply = %+v, %v; want failed at test.steps:3", g, err)
	}
	if !strings.Contains(err.Error(), "erin") {
		t.Fatalf("error %q does not name the member", err)
	}
	sb.SameAccounts(before, "after the failed apply")
	if sb.Exists("/srv/a") {
		t.Fatal("/srv/a left after the rollback")
	}
}
