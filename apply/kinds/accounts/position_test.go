package accounts_test

import (
	"maps"
	"os"
	"os/exec"
	"strings"
	"testing"

	"trail/apply/internal/sandbox/engine"
)

// An account that was there before trail and that a step makes absent
// comes back, when the step goes, at the line it held in each of the four
// account files: the files are byte for byte as before (DESIGN invariant
// 1), not with its lines appended as useradd and groupadd write them.
func TestAbsentAccountBackInPlace(t *testing.T) {
	cases := map[string]string{
		"a user":                       "USER mid absent=true",
		"a member of groups":           "USER mid2 absent=true",
		"a group":                      "GROUP gmid absent=true",
		"a user and its group":         "USER mid absent=true\nGROUP mid absent=true",
		"neighbours, the later first":  "USER mid2 absent=true\nUSER mid absent=true\nGROUP gmid2 absent=true\nGROUP gmid absent=true",
		"neighbours, the former first": "USER mid absent=true\nUSER mid2 absent=true\nGROUP gmid absent=true\nGROUP gmid2 absent=true",
	}
	for name, list := range cases {
		t.Run(name, func(t *testing.T) {
			sb := middleAccounts(t)
			start := sb.Accounts()
			sb.Apply(engine.Anchors+list, "absent")
			if maps.Equal(sb.Accounts(), start) {
				t.Fatal("the absent steps removed nothing: the test is void")
			}
			sb.Opts.AllowMassRemoval = true
			sb.Open()
			p, err := sb.E.Plan(sb.List(engine.Anchors))
			if err != nil {
				t.Fatalf("plan: %v", err)
			}
			for _, w := range p.Work {
				for _, c := range w.Changes {
					if strings.Contains(c, "-at") || strings.Contains(c, "mid:") {
						t.Errorf("the plan shows where the entry stood: %q", c)
					}
				}
			}
			sb.Apply(engine.Anchors, "gone")
			sb.SameAccounts(start, "after the absent steps went")
		})
	}
}

// A group's /etc/gshadow line with a password and administrators, which
// groupadd does not write, comes back whole.
func TestAbsentGroupGshadowBack(t *testing.T) {
	sb := middleAccounts(t)
	sb.Write("/etc/gshadow", strings.Replace(sb.Read("/etc/gshadow"), "gmid:!::last,mid2", "gmid:$6$salt$grp:alice,first:last,mid2", 1), 0o640)
	start := sb.Accounts()
	sb.Apply(engine.Anchors+"GROUP gmid absent=true", "absent")
	if sb.Entry("/etc/gshadow", "gmid") != "" {
		t.Fatal("gmid not removed")
	}
	sb.Apply(engine.Anchors, "gone")
	sb.SameAccounts(start, "after the absent step went")
}

// A user that was there before trail and that an absent step removed is
// back among the administrators of the groups it administered (userdel
// takes it out, useradd does not put it back), where it stood.
func TestAbsentUserAdminBack(t *testing.T) {
	sb := middleAccounts(t)
	sb.Write("/etc/gshadow", strings.Replace(sb.Read("/etc/gshadow"), "gmid:!::last,mid2", "gmid:!:alice,mid2,bob:last,mid2", 1), 0o640)
	start := sb.Accounts()
	sb.Apply(engine.Anchors+"USER mid2 absent=true", "absent")
	if got := sb.Entry("/etc/gshadow", "gmid"); got != "gmid:!:alice,bob:last" {
		t.Fatalf("gmid's gshadow line is %q once mid2 is removed", got)
	}
	sb.Apply(engine.Anchors, "gone")
	sb.SameAccounts(start, "after the absent step went")
}

// A user that was there before trail and that an absent step removed
// gets back its own ranges of subordinate ids, where they stood, and no
// new ones; the others' lines are left as they are.
func TestAbsentUserSubIDsBack(t *testing.T) {
	sb := middleAccounts(t)
	// not sorted, as an admin may write it; mid's range not the first free
	subs := "last:300000:65536\nfirst:100000:65536\nmid:500000:65536\nmid2:165536:65536\n"
	sb.Write("/etc/subuid", subs, 0o644)
	sb.Write("/etc/subgid", subs, 0o644)
	sb.Apply(engine.Anchors+"USER mid absent=true", "absent")
	if strings.Contains(sb.Read("/etc/subuid"), "mid:") {
		t.Fatal("userdel left mid's range")
	}
	sb.Apply(engine.Anchors, "gone")
	for _, f := range []string{"/etc/subuid", "/etc/subgid"} {
		if got := sb.Read(f); got != subs {
			t.Errorf("%s after the absent step went:\n%s\nwant\n%s", f, got, subs)
		}
	}
}

// A user that was there before trail, taken out of a group by a USER
// step's groups, goes back where it stood in the group's member lists
// when the step goes, not at their end where usermod -G adds it.
func TestUserGroupsBackInPlace(t *testing.T) {
	sb := middleAccounts(t)
	start := sb.Accounts()
	sb.Apply(engine.Anchors+"USER mid2 groups=gmid", "groups")
	if got := sb.Entry("/etc/group", "gfirst"); got != "gfirst:x:1002:last,first" {
		t.Fatalf("gfirst is %q after mid2 left it", got)
	}
	sb.Apply(engine.Anchors, "gone")
	sb.SameAccounts(start, "after the USER step went")
}

// When the entry that followed a removed account's line is gone by the
// time the reverse runs (here removed by hand), the line goes back at
// the index it held.
func TestAbsentAccountBackAtIndex(t *testing.T) {
	sb := middleAccounts(t)
	start := sb.Accounts()
	sb.Apply(engine.Anchors+"USER mid absent=true", "absent")
	want := map[string]string{}
	for f, data := range start {
		var keep []string
		for _, l := range strings.SplitAfter(data, "\n") {
			if !strings.HasPrefix(l, "mid2:") || f != "/etc/passwd" && f != "/etc/shadow" {
				keep = append(keep, l)
			}
		}
		want[f] = strings.Join(keep, "")
	}
	for _, f := range []string{"/etc/passwd", "/etc/shadow"} {
		sb.Write(f, strings.Replace(sb.Read(f), sb.Entry(f, "mid2")+"\n", "", 1), os.FileMode(sb.Stat(f).Mode&0o777))
	}
	sb.Apply(engine.Anchors, "gone")
	sb.SameAccounts(want, "after the absent step went, mid2 removed by hand")
}

// middleAccounts is a root whose account files hold, made with the
// shadow tools, users and groups before and after mid, mid2, gmid and
// gmid2, and mid2 at the head of one group's member list and at the end
// of another's.
func middleAccounts(t *testing.T) *engine.Sandbox {
	t.Helper()
	sb := engine.NewAccounts(t, true)
	for _, args := range [][]string{
		{"groupadd", "gfirst"}, {"groupadd", "gmid"}, {"groupadd", "gmid2"},
		{"useradd", "-M", "first"}, {"useradd", "-M", "-c", "In the middle", "-s", "/bin/sh", "mid"},
		{"useradd", "-M", "-G", "gfirst", "mid2"}, {"useradd", "-M", "-G", "gfirst,gmid", "last"}, {"groupadd", "glast"},
		{"usermod", "-a", "-G", "gfirst", "first"}, {"usermod", "-a", "-G", "gmid", "mid2"},
	} {
		cmd := exec.Command(args[0], append([]string{"--prefix", sb.Dir}, args[1:]...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v: %v: %s", args, err, out)
		}
	}
	sb.RemoveToolFiles()
	return sb
}

// A user that was there before trail, taken out of a group by one apply
// and put back in it by a later one, stands where it stood in the group's
// member lists, as a fresh apply of the later list leaves it (usermod -G
// would add it at their end), and its other memberships stay where they
// are; a rollback and the step's removal give the files back byte for
// byte.
func TestUserGroupsChangeKeepsPlace(t *testing.T) {
	back := engine.Anchors + "USER mid2 groups=gfirst,gmid,glast"
	fresh := middleAccounts(t)
	fresh.Apply(back, "back")
	want := fresh.Accounts()
	if got := fresh.Entry("/etc/group", "gfirst"); got != "gfirst:x:1002:mid2,last,first" {
		t.Fatalf("a fresh apply left gfirst %q", got)
	}

	sb := middleAccounts(t)
	start := sb.Accounts()
	sb.Apply(engine.Anchors+"USER mid2 groups=gmid", "out")
	out := sb.Accounts()
	if got := sb.Entry("/etc/group", "gfirst"); got != "gfirst:x:1002:last,first" {
		t.Fatalf("gfirst is %q after mid2 left it", got)
	}
	sb.Apply(back, "back")
	for _, f := range []string{"/etc/group", "/etc/gshadow"} {
		for _, g := range []string{"gfirst", "gmid", "glast"} {
			if got, w := sb.Entry(f, g), fresh.Entry(f, g); got != w {
				t.Errorf("%s: %q, want %q as a fresh apply leaves it", f, got, w)
			}
		}
	}
	sb.SameAccounts(want, "out of gfirst, then back in it")
	sb.Apply(engine.Anchors+"USER mid2 groups=gmid", "out")
	sb.SameAccounts(out, "rolled back to the list without gfirst")
	sb.Apply(engine.Anchors, "gone")
	sb.SameAccounts(start, "after the USER step went")
}
