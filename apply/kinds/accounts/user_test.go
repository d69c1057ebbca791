package accounts_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"trail/apply"
	"trail/apply/internal/sandbox/engine"
	"trail/apply/kind"
	"trail/apply/kinds/accounts"
	"trail/apply/state"
	"trail/internal/fsx"
)

func TestUserCreateAndReverse(t *testing.T) {
	for _, defs := range []bool{true, false} {
		name := map[bool]string{true: "login.defs", false: "no login.defs"}[defs]
		t.Run(name, func(t *testing.T) {
			sb := engine.NewAccounts(t, defs)
			sb.Write("/etc/skel/.profile", "# skel of the root\n", 0o644)
			before := sb.Accounts()
			var ev engine.Events
			sb.Opts.OnEvent = ev.Add
			sb.Open()
			sb.Apply(engine.Anchors+"USER carol uid=1500 groups=staff shell=/bin/sh comment=\"Carol C\"", "c1")
			if got := sb.Entry("/etc/passwd", "carol"); got != "carol:x:1500:1500:Carol C:/home/carol:/bin/sh" {
				t.Fatalf("passwd entry = %q", got)
			}
			if got := sb.Entry("/etc/group", "carol"); got != "carol:x:1500:" {
				t.Fatalf("own group = %q", got)
			}
			if got := sb.Entry("/etc/group", "staff"); got != "staff:x:50:carol" {
				t.Fatalf("staff = %q", got)
			}
			if got := sb.Entry("/etc/shadow", "carol"); !strings.HasPrefix(got, "carol:!:") {
				t.Fatalf("shadow entry = %q, want a locked password", got)
			}
			if st := sb.Stat("/home/carol"); st.Uid != 1500 || st.Mode&0o777 != 0o755 {
				t.Fatalf("home: uid %d mode %o", st.Uid, st.Mode&0o777)
			}
			if sb.Read("/home/carol/.profile") != "# skel of the root\n" {
				t.Fatal("home not filled from the root's /etc/skel")
			}
			if d, err := sb.E.Drift(); err != nil || len(d) != 0 {
				t.Fatalf("drift right after apply = %+v, %v", d, err)
			}
			g := sb.Apply(engine.Anchors, "c2")
			sb.SameAccounts(before, "after the user step was removed")
			if !sb.Exists("/home/carol/.profile") {
				t.Fatal("the reverse deleted the home directory")
			}
			if g.Counts.Kept != 1 || len(g.Kept) != 1 || !strings.Contains(g.Kept[0], "/home/carol") {
				t.Fatalf("generation kept = %d %q; want the home named", g.Counts.Kept, g.Kept)
			}
			var kept bool
			for _, e := range ev.Of(apply.EventStep) {
				kept = kept || e.Result == apply.StepKept && strings.Contains(e.Detail, "home /home/carol")
			}
			if !kept {
				t.Fatal("no kept event names the home")
			}
		})
	}
}

// A user that existed before trail managed it gets every entry back,
// down to its password and the day it was last changed.
func TestUserPreExistingComesBack(t *testing.T) {
	sb := engine.NewAccounts(t, true)
	before := sb.Accounts()
	sb.Apply(engine.Anchors+"USER alice uid=1010 groups=staff shell=/bin/bash home=/home/al password=$6$new$hash comment=Alice", "c1")
	if got := sb.Entry("/etc/passwd", "alice"); got != "alice:x:1010:1000:Alice:/home/al:/bin/bash" {
		t.Fatalf("passwd entry = %q", got)
	}
	if got := sb.Entry("/etc/shadow", "alice"); !strings.HasPrefix(got, "alice:$6$new$hash:") {
		t.Fatalf("shadow entry = %q", got)
	}
	if st := sb.Stat("/home/al"); st.Uid != 1010 {
		t.Fatalf("new home owned by %d", st.Uid)
	}
	applied, _ := os.ReadFile(filepath.Join(sb.E.StateDir(), state.FileApplied))
	if strings.Contains(string(applied), "$6$") {
		t.Fatalf("the applied record holds a password hash:\n%s", applied)
	}
	// the user's password step is dropped: the old one comes back
	sb.Apply(engine.Anchors+"USER alice uid=1010 groups=staff shell=/bin/bash home=/home/al comment=Alice", "c2")
	if got := sb.Entry("/etc/shadow", "alice"); got != "alice:!:19000:0:99999:7:::" {
		t.Fatalf("shadow entry after the password was dropped = %q", got)
	}
	sb.Apply(engine.Anchors, "c3")
	sb.SameAccounts(before, "after the reverse of a step over an existing user")
}

func TestUserDrift(t *testing.T) {
	sb := engine.NewAccounts(t, true)
	sb.Apply(engine.Anchors+"USER carol shell=/bin/sh groups=staff", "c1")
	x := sb.Exec()
	if err := accounts.ShadowTool(x, "usermod", "-s", "/bin/bash", "carol"); err != nil {
		t.Fatal(err)
	}
	d, err := sb.E.Drift()
	if err != nil || len(d) != 1 || d[0].ID.String() != "USER carol" || strings.Join(d[0].Changed, ",") != "shell" {
		t.Fatalf("drift = %+v, %v; want USER carol shell", d, err)
	}
	if err := accounts.ShadowTool(x, "usermod", "-G", "", "carol"); err != nil {
		t.Fatal(err)
	}
	if d, _ := sb.E.Drift(); len(d) != 1 || strings.Join(d[0].Changed, ",") != "groups,shell" {
		t.Fatalf("drift = %+v; want groups and shell", d)
	}
}

// Debian's userdel removes the group of the user's name; a group that
// existed before, or that a GROUP step still manages, must survive.
func TestUserGroupOfSameNameSurvives(t *testing.T) {
	for _, defs := range []bool{true, false} {
		name := map[bool]string{true: "login.defs", false: "no login.defs"}[defs]
		t.Run(name+"/pre-existing group", func(t *testing.T) {
			sb := engine.NewAccounts(t, defs)
			sb.Write("/etc/group", sb.Read("/etc/group")+"dave:x:1600:bob\n", 0o644)
			sb.Write("/etc/gshadow", sb.Read("/etc/gshadow")+"dave:!::bob\n", 0o640)
			before := sb.Accounts()
			sb.Apply(engine.Anchors+"USER dave uid=1600", "c1")
			if got := sb.Entry("/etc/passwd", "dave"); !strings.HasPrefix(got, "dave:x:1600:1600:") {
				t.Fatalf("dave = %q, want it in its existing group", got)
			}
			sb.Apply(engine.Anchors, "c2")
			if got := sb.Entry("/etc/group", "dave"); got != "dave:x:1600:bob" {
				t.Fatalf("group dave after the reverse = %q", got)
			}
			if sb.Entry("/etc/passwd", "dave") != "" {
				t.Fatal("user dave not removed")
			}
			if b := sb.Accounts(); b["/etc/passwd"] != before["/etc/passwd"] || b["/etc/shadow"] != before["/etc/shadow"] {
				t.Fatal("passwd or shadow not back")
			}
		})
		t.Run(name+"/group managed by a GROUP step", func(t *testing.T) {
			sb := engine.NewAccounts(t, defs)
			before := sb.Accounts()
			sb.Apply(engine.Anchors+"GROUP team gid=1700\nUSER team uid=1700 group=team", "c1")
			sb.Apply(engine.Anchors+"GROUP team gid=1700", "c2")
			if got := sb.Entry("/etc/group", "team"); got != "team:x:1700:" {
				t.Fatalf("group team after the user's reverse = %q", got)
			}
			if d, err := sb.E.Drift(); err != nil || len(d) != 0 {
				t.Fatalf("drift = %+v, %v", d, err)
			}
			sb.Apply(engine.Anchors, "c3")
			sb.SameAccounts(before, "after both steps were removed")
		})
	}
}

func TestUserBadInputRefusedAtPlan(t *testing.T) {
	cases := map[string]struct{ step, want string }{
		"uid of an unmanaged user": {"USER carol uid=1000", "uid 1000 already belongs to user alice"},
		"unknown primary group":    {"USER carol group=nosuch", "group \"nosuch\" is not in"},
		"unknown numeric group":    {"USER carol group=4242", "gid 4242 is not in"},
		"unknown group in groups":  {"USER carol groups=staff,nosuch", "groups: group \"nosuch\" is not in"},
		"plain password":           {"USER carol password=secret", "password must be a crypt(3) hash"},
		"colon in comment":         {"USER carol comment=a:b", "holds a colon"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := refusedAtPlan(t, tc.step, tc.want)
			if strings.Contains(err.Error(), "secret") {
				t.Fatalf("the error shows the password: %v", err)
			}
		})
	}
}

// A user created by an apply that fails later is removed again; its home
// is left and reported.
func TestUserRolledBackWithTheApply(t *testing.T) {
	sb := engine.NewAccounts(t, true)
	before := sb.Accounts()
	g, err := sb.ApplyErr(engine.Anchors+"GROUP web\nUSER carol groups=web\nCMD fail run=\"exit 3\" undo=true timeout=5s", "c1")
	if err == nil || g.Result != apply.ResultFailed || g.ErrorSource != "test.steps:5" {
		t.Fatalf("apply = %+v, %v; want failed at test.steps:5", g, err)
	}
	sb.SameAccounts(before, "after the rollback")
	if !sb.Exists("/home/carol") {
		t.Fatal("the rollback deleted the home it should have left")
	}
}

// BenchmarkReadUser measures reading one user's whole image (passwd,
// group, shadow) from account files of n entries: the cost of a USER
// step's check, capture and drift check.
func BenchmarkReadUser(b *testing.B) {
	for _, n := range []int{100, 5000} {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			dir := b.TempDir()
			var pw, gr, sh strings.Builder
			for i := range n {
				fmt.Fprintf(&pw, "u%d:x:%d:%d::/home/u%d:/bin/sh\n", i, 2000+i, 2000+i, i)
				fmt.Fprintf(&gr, "u%d:x:%d:u%d,u%d\n", i, 2000+i, (i+1)%n, (i+2)%n)
				fmt.Fprintf(&sh, "u%d:!:19000:0:99999:7:::\n", i)
			}
			os.MkdirAll(filepath.Join(dir, "etc"), 0o755)
			for f, c := range map[string]string{"passwd": pw.String(), "group": gr.String(), "shadow": sh.String()} {
				if err := os.WriteFile(filepath.Join(dir, "etc", f), []byte(c), 0o644); err != nil {
					b.Fatal(err)
				}
			}
			root, err := fsx.Open(dir)
			if err != nil {
				b.Fatal(err)
			}
			defer root.Close()
			x := &kind.Exec{Root: root}
			name := fmt.Sprintf("u%d", n/2)
			b.ReportAllocs()
			for b.Loop() {
				img, err := accounts.ReadUser(x, name)
				if err != nil || img.IsAbsent() {
					b.Fatal(img, err)
				}
			}
		})
	}
}
