package apply

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"trail/apply/kind"
)

// Force puts back every drifted target whatever its policy, journaled and
// saved like any change, counting what it did; with nothing drifted it is
// the no-op path and writes nothing.
func TestForceConverges(t *testing.T) {
	sb := newSandbox(t)
	var ev events
	sb.opts.OnEvent = ev.add
	sb.open()
	list := "DIR /srv/w\nFILE /srv/w/report {r}\nFILE /srv/w/ignore {i} drift=ignore\nFILE /srv/w/heal {h} mode=0600 drift=heal\nFILE /srv/w/same {s}"
	sb.apply(list, "c1")
	want := snapshot(t, sb.root)
	sb.write("/srv/w/report", "by hand", 0o644)
	sb.write("/srv/w/ignore", "by hand too", 0o644)
	os.Chmod(sb.host("/srv/w/heal"), 0o644)

	g, err := sb.e.Apply(context.Background(), sb.list(list), Meta{Commit: "c1"})
	if err != nil || !g.NoOp || g.Number != 1 {
		t.Fatalf("apply without force = %+v, %v; want the no-op path", g, err)
	}
	g, err = sb.e.Apply(context.Background(), sb.list(list), Meta{Commit: "c1", Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if g.NoOp || g.Number != 2 || g.Commit != "c1" || g.Result != ResultOK {
		t.Fatalf("forced generation = %+v", g)
	}
	if c := g.Counts; c != (Counts{Modified: 3, Unchanged: 2, Drifted: 2}) {
		t.Fatalf("counts = %+v; want 3 modified, 2 unchanged, 2 drifted (ignore is not reported)", c)
	}
	if got := snapshot(t, sb.root); got != want {
		t.Fatalf("the root is not as applied:\n%s", lineDiff(want, got))
	}
	// What was there instead is saved.
	for _, s := range []string{"by hand", "by hand too"} {
		if !sb.e.Store().Has(kind.HashKey([]byte(s))) {
			t.Errorf("%q overwritten without being saved", s)
		}
	}
	if len(ev.of(EventDrift)) != 2 {
		t.Errorf("drift events = %+v", ev.of(EventDrift))
	}

	// Nothing drifted: no generation, nothing written.
	before := mtimes(t, sb.state)
	ev = nil
	g, err = sb.e.Apply(context.Background(), sb.list(list), Meta{Commit: "c1", Force: true})
	if err != nil || !g.NoOp || g.Number != 2 {
		t.Fatalf("forced apply with nothing drifted = %+v, %v; want the no-op path", g, err)
	}
	if after := mtimes(t, sb.state); !sameTimes(before, after) {
		t.Fatal("a forced apply with nothing drifted wrote in the state directory")
	}
	if end := ev.of(EventApplyEnd); len(end) != 1 || end[0].Counts != (Counts{Unchanged: 5}) {
		t.Fatalf("apply end = %+v; want this call's counts, 5 unchanged", end)
	}
}

func sameTimes(a, b map[string][3]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if k == "lock" || strings.HasSuffix(k, "/lock") {
			continue
		}
		if b[k] != v {
			return false
		}
	}
	return true
}

// Force together with a new list: the diff's changes and the drifted
// shared steps, in list order.
func TestForceWithNewList(t *testing.T) {
	sb := newSandbox(t)
	sb.apply("DIR /srv/w\nFILE /srv/w/a {a}\nFILE /srv/w/b {b}", "c1")
	sb.write("/srv/w/a", "by hand", 0o644)
	g, err := sb.e.Apply(context.Background(), sb.list("DIR /srv/w\nFILE /srv/w/a {a}\nFILE /srv/w/b {b2}"), Meta{Commit: "c2", Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if c := g.Counts; c.Modified != 2 || c.Unchanged != 1 || c.Drifted != 1 {
		t.Fatalf("counts = %+v", c)
	}
	if sb.read("/srv/w/a") != "a" || sb.read("/srv/w/b") != "b2" {
		t.Fatal("not converged")
	}
}

// A group's gid or a user's uid that changes takes along the paths that
// name them: the result equals a fresh apply of the list (DESIGN
// invariant 1), and the plan says so before the apply does it.
func TestOwnerNamesFollowAccountChanges(t *testing.T) {
	paths := "DIR /srv/w group=web\nFILE /srv/w/f {f} owner=carol group=web\nLINK /srv/w/l f owner=carol\nFILE /srv/w/n {n} owner=1234 group=staff\n" +
		"ATTRS /srv/w/shipped owner=carol group=web\n"
	lists := []string{
		anchors + "GROUP web gid=1701\nUSER carol uid=1500\n" + paths,
		anchors + "GROUP web gid=1702\nUSER carol uid=1501\n" + paths,
		// staff existed before trail with gid 50: managed, then given back.
		anchors + "GROUP web gid=1702\nUSER carol uid=1501\nGROUP staff gid=60\n" + paths,
		anchors + "GROUP web gid=1701\nUSER carol uid=1500\n" + paths,
	}
	// shipped stands for a file a package put there before trail.
	shipped := func(sb *sandbox) *sandbox { sb.write("/srv/w/shipped", "pkg\n", 0o644); return sb }
	sb := shipped(acctSandbox(t, true))
	for i, l := range lists {
		if i == 1 {
			p, err := sb.e.Plan(sb.list(l))
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			PrintPlan(&b, p)
			for _, w := range []string{"~ DIR /srv/w group=web", "group 1701 -> 1702", "~ FILE /srv/w/f", "owner 1500 -> 1501", "~ LINK /srv/w/l", "~ ATTRS /srv/w/shipped"} {
				if !strings.Contains(b.String(), w) {
					t.Fatalf("plan does not say %q:\n%s", w, b.String())
				}
			}
			if strings.Contains(b.String(), "/srv/w/n") {
				t.Fatalf("the plan revisits a path owned by number:\n%s", b.String())
			}
		}
		g := sb.apply(l, string(rune('a'+i)))
		sb.removeToolFiles()
		fresh := shipped(acctSandbox(t, true))
		fresh.apply(l, "fresh")
		fresh.removeToolFiles()
		if got, want := paths3(t, sb.root), paths3(t, fresh.root); got != want {
			t.Fatalf("list %d (counts %+v): /srv/w differs from a fresh apply:\n%s", i, g.Counts, lineDiff(want, got))
		}
	}
	st := sb.stat("/srv/w/n")
	if st.Gid != 50 {
		t.Fatalf("/srv/w/n has gid %d after staff was given back; want 50", st.Gid)
	}
}

// paths3 is the snapshot of /srv/w under root.
func paths3(t *testing.T, root string) string { return snapshot(t, filepath.Join(root, "srv/w")) }

// A plan that removes a group a path still names is refused, as a fresh
// apply of the list would be.
func TestOwnerNameRemovedRefused(t *testing.T) {
	sb := acctSandbox(t, true)
	sb.apply(anchors+"GROUP web gid=1701\nDIR /srv/w group=web", "c1")
	before := snapshot(t, sb.root)
	_, err := sb.applyErr(anchors+"DIR /srv/w group=web", "c2")
	if err == nil || !strings.Contains(err.Error(), "group web is removed by this apply") || !strings.Contains(err.Error(), "test.steps:3") {
		t.Fatalf("error = %v", err)
	}
	if got := snapshot(t, sb.root); got != before {
		t.Fatalf("a refused apply changed the root:\n%s", lineDiff(before, got))
	}
}

// Names resolve from the account files as last read, without a stat per
// path; a step that rewrites /etc/group in place (same inode, same size)
// between two paths that name the group must still be seen by the second,
// at the run's check, whatever the plan predicted.
func TestOwnerNamesFollowAccountRewriteInApply(t *testing.T) {
	sb := newSandbox(t)
	sb.write("/etc/group", "root:x:0:\nweb:x:1701:\n", 0o644)
	sb.write("/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n", 0o644)
	ino := sb.stat("/etc/group").Ino
	sb.apply(`DIR /srv/a group=web
CMD regid run="printf 'root:x:0:\\nweb:x:1702:\\n' >etc/group" undo=true timeout=30s
DIR /srv/b group=web
`, "c1")
	if sb.stat("/etc/group").Ino != ino || !strings.Contains(sb.read("/etc/group"), "web:x:1702:") {
		t.Fatalf("the command did not rewrite /etc/group in place: %q", sb.read("/etc/group"))
	}
	if got := sb.stat("/srv/a").Gid; got != 1701 {
		t.Fatalf("/srv/a has gid %d; want 1701, web's gid before the command", got)
	}
	if got := sb.stat("/srv/b").Gid; got != 1702 {
		t.Fatalf("/srv/b has gid %d; want 1702, web's gid after the command ran", got)
	}
}
