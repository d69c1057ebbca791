package apply

import (
	"context"
	"os/exec"
	"strings"
	"testing"
)

// An absent user is removed with userdel, its home kept and the group of
// its name left; an absent group with groupdel. Both come back with their
// ids, groups, password field and members when the steps go.
func TestAbsentAccounts(t *testing.T) {
	sb := acctSandbox(t, true)
	sb.write("/etc/group", "root:x:0:\nstaff:x:50:alice,bob\nalice:x:1000:\nbob:x:1001:\n", 0o644)
	sb.write("/etc/gshadow", "root:*::\nstaff:!::alice,bob\nalice:!::\nbob:!::\n", 0o640)
	sb.write("/home/bob/notes", "keep me", 0o600)
	passwd, shadow := sb.fs().Entry("/etc/passwd", "bob"), sb.fs().Entry("/etc/shadow", "bob")
	list := "USER bob absent=true\nGROUP staff absent=true\nUSER nobody-here absent=true"
	g := sb.apply(list, "c1")
	if g.Counts.Added != 3 {
		t.Fatalf("counts = %+v", g.Counts)
	}
	for _, f := range []string{"/etc/passwd", "/etc/shadow"} {
		if e := sb.fs().Entry(f, "bob"); e != "" {
			t.Fatalf("%s still has %q", f, e)
		}
	}
	if e := sb.fs().Entry("/etc/group", "staff"); e != "" {
		t.Fatalf("/etc/group still has %q", e)
	}
	if sb.fs().Entry("/etc/group", "bob") != "bob:x:1001:" {
		t.Fatal("the group of bob's name went with the user; it was not trail's")
	}
	sb.fs().WantFile("/home/bob/notes", "keep me", 0o600, 0, 0)
	sb.removeToolFiles()
	files := sb.accounts()
	if g := sb.apply(list, "c2"); g.Counts.Added+g.Counts.Modified+g.Counts.Removed != 0 {
		t.Fatalf("a second apply changed something: %+v", g.Counts)
	}
	sb.fs().SameAccounts(files, "after applying again")
	if d, err := sb.e.Drift(); err != nil || len(d) != 0 {
		t.Fatalf("drift: %v %v", d, err)
	}
	g, err := sb.e.Apply(context.Background(), sb.list("DIR /srv/a"), Meta{Commit: "c3", Deliberate: true})
	if err != nil || g.Counts.Removed != 3 {
		t.Fatalf("apply c3: %v %+v", err, g)
	}
	if got := sb.fs().Entry("/etc/passwd", "bob"); got != passwd {
		t.Fatalf("passwd entry %q, want %q", got, passwd)
	}
	if got := sb.fs().Entry("/etc/shadow", "bob"); got != shadow {
		t.Fatalf("shadow entry %q, want %q", got, shadow)
	}
	if got := sb.fs().Entry("/etc/group", "staff"); got != "staff:x:50:alice,bob" {
		t.Fatalf("group entry %q", got)
	}
	if got := sb.fs().Entry("/etc/gshadow", "staff"); got != "staff:!::alice,bob" {
		t.Fatalf("gshadow entry %q", got)
	}
}

// A user that comes back where the list says absent is drift; a group
// still some kept user's primary group is refused before anything changes.
func TestAbsentAccountsDriftAndRefusal(t *testing.T) {
	sb := acctSandbox(t, true)
	before := sb.accounts()
	_, err := sb.applyErr("USER bob absent=true\nGROUP alice absent=true", "c1")
	if err == nil || !strings.Contains(err.Error(), "group alice is the primary group of user alice") {
		t.Fatalf("err = %v", err)
	}
	sb.fs().SameAccounts(before, "after a refused apply")
	sb.apply("USER bob absent=true\nGROUP bob absent=true", "c2")
	if sb.fs().Entry("/etc/group", "bob") != "" {
		t.Fatal("group bob is still there")
	}
	sb.write("/etc/passwd", sb.read("/etc/passwd")+"bob:x:1001:50::/home/bob:/bin/sh\n", 0o644)
	d, err := sb.e.Drift()
	if err != nil || len(d) != 1 || d[0].ID.String() != "USER bob" {
		t.Fatalf("drift = %+v, %v", d, err)
	}
}

// A user trail created and then makes absent goes with the group of its
// name, as a fresh apply of the absent list would leave no trace of it.
func TestAbsentUserTrailCreated(t *testing.T) {
	sb := acctSandbox(t, true)
	sb.removeToolFiles()
	before := sb.accounts()
	sb.apply("USER carol uid=1500", "c1")
	if sb.fs().Entry("/etc/group", "carol") == "" {
		t.Fatal("useradd made no group of carol's name")
	}
	sb.apply("USER carol absent=true", "c2")
	sb.removeToolFiles()
	sb.fs().SameAccounts(before, "after the user trail created is absent")
}

// With drift=heal, a user that comes back where the list says absent is
// removed again; the group of its name stays.
func TestAbsentUserHeal(t *testing.T) {
	sb := acctSandbox(t, true)
	sb.apply("USER bob absent=true drift=heal", "c1")
	if out, err := exec.Command("useradd", "--root", sb.root, "-u", "1001", "-g", "bob", "-M", "bob").CombinedOutput(); err != nil {
		t.Fatalf("useradd: %v %s", err, out)
	}
	g, err := sb.e.Heal(context.Background())
	if err != nil || g == nil || g.Counts.Modified != 1 {
		t.Fatalf("heal: %v %+v", err, g)
	}
	if sb.fs().Entry("/etc/passwd", "bob") != "" || sb.fs().Entry("/etc/group", "bob") == "" {
		t.Fatalf("after heal: passwd %q, group %q", sb.fs().Entry("/etc/passwd", "bob"), sb.fs().Entry("/etc/group", "bob"))
	}
}
