package accounts_test

import (
	"fmt"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"

	"trail/apply/internal/sandbox"
	"trail/apply/internal/sandbox/engine"
	"trail/apply/kinds/accounts"
)

// Path independence of the account files (DESIGN invariant 1): after
// A, then B without some of A's accounts, then A again, the four account
// files are byte for byte what a fresh apply of A gives on the same
// starting root; and the reverse of everything gives the starting files
// back, an entry the tools had to delete and add again included.
func TestAccountFilesPathIndependent(t *testing.T) {
	cases := map[string]struct{ a, b string }{
		"users without ids": {
			a: engine.Anchors + "USER u1\nGROUP g1\nUSER u2 groups=g1\nGROUP g2\nUSER u3 system=true home=/srv/u3",
			b: engine.Anchors + "USER u2\nGROUP g2",
		},
		"users": {
			a: engine.Anchors + "USER u1 uid=1401\nUSER u2 uid=1402",
			b: engine.Anchors + "USER u2 uid=1402",
		},
		"users with ids and groups": {
			a: engine.Anchors + "GROUP g1 gid=1200\nUSER u1 uid=1201 groups=g1,staff\nGROUP g2 gid=1300 members=u1\nUSER u2 uid=1301 groups=g1",
			b: engine.Anchors + "GROUP g1 gid=1200\nUSER u2 uid=1301 groups=g1",
		},
		"group of a user's name existing before": {
			a: engine.Anchors + "USER u1 uid=1501\nUSER dave uid=1600\nUSER u2 uid=1502",
			b: engine.Anchors + "USER u2 uid=1502",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			setup := func() *engine.Sandbox {
				sb := engine.NewAccounts(t, true)
				sb.Write("/etc/group", sb.Read("/etc/group")+"dave:x:1600:\nlate:x:1601:\n", 0o644)
				sb.Write("/etc/gshadow", sb.Read("/etc/gshadow")+"dave:!::\nlate:!::\n", 0o640)
				return sb
			}
			fresh := setup()
			fresh.Apply(tc.a, "a")
			want := fresh.Accounts()

			sb := setup()
			start := sb.Accounts()
			sb.Apply(tc.a, "a")
			sb.SameAccounts(want, "A, as a fresh apply")
			sb.Apply(tc.b, "b")
			sb.Apply(tc.a, "a2")
			sb.SameAccounts(want, "A, then B, then A again")
			sb.Opts.AllowMassRemoval = true
			sb.Open()
			sb.Apply(engine.Anchors, "none")
			sb.SameAccounts(start, "after every account step was removed")
		})
	}
}

// groupadd -U and groupmod -U set the members in /etc/group only; trail
// sets them in /etc/gshadow too, where newgrp and gpasswd read them, and
// the reverse puts both back.
func TestGroupMembersInGshadow(t *testing.T) {
	sb := engine.NewAccounts(t, true)
	start := sb.Accounts()
	sb.Apply(engine.Anchors+"GROUP team gid=1700 members=alice,bob\nGROUP staff members=bob", "c1")
	for file, want := range map[string]string{
		"/etc/group": "team:x:1700:alice,bob", "/etc/gshadow": "team:!::alice,bob",
	} {
		if got := sb.Entry(file, "team"); got != want {
			t.Errorf("%s: team = %q, want %q", file, got, want)
		}
	}
	if got := sb.Entry("/etc/gshadow", "staff"); got != "staff:!::bob" {
		t.Errorf("gshadow: staff = %q, want its members set", got)
	}
	sb.Apply(engine.Anchors+"GROUP team gid=1700 members=bob\nGROUP staff members=alice", "c2")
	if got := sb.Entry("/etc/gshadow", "team"); got != "team:!::bob" {
		t.Errorf("gshadow: team after a change = %q", got)
	}
	if got := sb.Entry("/etc/gshadow", "staff"); got != "staff:!::alice" {
		t.Errorf("gshadow: staff after a change = %q", got)
	}
	sb.Opts.AllowMassRemoval = true
	sb.Open()
	sb.Apply(engine.Anchors, "c3")
	sb.SameAccounts(start, "after the group steps were removed")
}

// A random walk over lists of users and groups (random subsets in random
// orders, with supplementary groups and member lists): after every apply
// the account files are byte for byte a fresh apply's of the same list on
// the same starting root. Ids are given, as a user created in another
// order than a fresh apply's may find its fresh id taken (see acctids.go).
func TestAccountFilesRandomWalk(t *testing.T) {
	if testing.Short() {
		t.Skip("a walk of real useradd runs: not in -short")
	}
	rng := rand.New(rand.NewPCG(20261206, 1))
	type acct struct{ kind, name, id string }
	pool := []acct{{"GROUP", "g1", "1100"}, {"GROUP", "g2", "1101"}, {"GROUP", "g3", "1102"},
		{"USER", "u1", "1201"}, {"USER", "u2", "1202"}, {"USER", "u3", "1203"}, {"USER", "u4", "1204"}}
	list := func() string {
		var b strings.Builder
		b.WriteString(engine.Anchors)
		var groups, users []string
		for _, i := range rng.Perm(len(pool)) {
			a := pool[i]
			if rng.IntN(3) == 0 {
				continue
			}
			switch a.kind {
			case "GROUP":
				fmt.Fprintf(&b, "GROUP %s gid=%s", a.name, a.id)
				if len(users) > 0 && a.name == "g3" {
					fmt.Fprintf(&b, " members=%s", strings.Join(users[:1+rng.IntN(len(users))], ","))
				} else {
					groups = append(groups, a.name)
				}
			case "USER":
				fmt.Fprintf(&b, "USER %s uid=%s", a.name, a.id)
				var gs []string
				for _, g := range append([]string{"staff"}, groups...) {
					if rng.IntN(2) == 0 {
						gs = append(gs, g)
					}
				}
				if len(gs) > 0 {
					fmt.Fprintf(&b, " groups=%s", strings.Join(gs, ","))
				}
				users = append(users, a.name)
			}
			b.WriteString("\n")
		}
		return b.String()
	}
	fresh := map[string]map[string]string{}
	want := func(l string) map[string]string {
		if w, ok := fresh[l]; ok {
			return w
		}
		sb := engine.NewAccounts(t, true)
		sb.Apply(l, "fresh")
		fresh[l] = sb.Accounts()
		return fresh[l]
	}
	sb := engine.NewAccounts(t, true)
	sb.Opts.AllowMassRemoval = true
	sb.Open()
	for i := range 16 {
		l := list()
		sb.Apply(l, fmt.Sprint("c", i))
		sb.SameAccounts(want(l), fmt.Sprintf("step %d, list\n%s", i, l))
		if t.Failed() {
			return
		}
	}
}

// trail's edits of the account files hold the shadow tools' own locks: a
// tool run meanwhile gives up (after its 15 s of retries), and nothing of
// the locks is left after. With --root the tool stops at lckpwdf's lock
// on /etc/.pwd.lock; with --prefix it takes the NAME.lock files alone.
func TestAccountLockExcludesTools(t *testing.T) {
	if testing.Short() {
		t.Skip("the tools wait 15 s for a lock: not in -short")
	}
	t.Parallel()
	for _, opt := range []string{"--root", "--prefix"} {
		t.Run(opt, func(t *testing.T) {
			t.Parallel()
			sb := engine.NewAccounts(t, true)
			x := sb.Exec()
			release, err := accounts.LockAccounts(x)
			if err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command("groupadd", opt, sb.Dir, "locked-out").CombinedOutput()
			release()
			if err == nil || !strings.Contains(string(out), "lock") {
				t.Fatalf("groupadd while trail holds the locks: %v: %s; want a lock refusal", err, out)
			}
			if err := accounts.ShadowTool(x, "groupadd", "after"); err != nil {
				t.Fatalf("groupadd after the release: %v", err)
			}
			for _, f := range sandbox.AccountFiles {
				if sb.Exists(f+".lock") || sb.Entry("/etc/group", "locked-out") != "" {
					t.Errorf("%s.lock left behind, or the group made", f)
				}
			}
		})
	}
}
