package apply

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"trail/apply/kind"
)

// An absent path is removed whole and saved: the reverse of its step puts
// back a file's content, mode and owner, a symlink's target and owner, an
// empty directory's mode; applying the list again changes nothing.
func TestAbsentPaths(t *testing.T) {
	sb := newSandbox(t)
	sb.write("/etc/motd", "hand-written\n", 0o640)
	os.Chown(sb.host("/etc/motd"), 1001, 1002)
	os.Symlink("/usr/share/old", sb.host("/etc/old"))
	os.Lchown(sb.host("/etc/old"), 1003, 1004)
	os.Mkdir(sb.host("/srv/empty"), 0o710)
	os.Mkdir(sb.host("/srv/tree"), 0o750)
	sb.write("/srv/tree/a", "a", 0o600)
	list := `FILE /etc/motd absent=true
LINK /etc/old absent=true
DIR /srv/empty absent=true
FILE /srv/tree/a absent=true
DIR /srv/tree absent=true
FILE /etc/never absent=true
FILE /etc/keep {kept}`
	g := sb.apply(list, "c1")
	if g.Counts.Added != 7 {
		t.Fatalf("counts = %+v", g.Counts)
	}
	for _, p := range []string{"/etc/motd", "/etc/old", "/srv/empty", "/srv/tree", "/etc/never"} {
		if sb.exists(p) {
			t.Fatalf("%s is still there", p)
		}
	}
	if b, err := sb.e.Store().Get(kind.HashKey([]byte("hand-written\n"))); err != nil || string(b) != "hand-written\n" {
		t.Fatalf("the removed file's content was not saved: %q %v", b, err)
	}
	if g := sb.apply(list, "c2"); g.Counts.Added+g.Counts.Modified+g.Counts.Removed != 0 {
		t.Fatalf("a second apply changed something: %+v", g.Counts)
	}
	if d, err := sb.e.Drift(); err != nil || len(d) != 0 {
		t.Fatalf("drift after apply: %v %v", d, err)
	}
	g, err := sb.e.Apply(context.Background(), sb.list("FILE /etc/keep {kept}"), Meta{Commit: "c3", Deliberate: true})
	if err != nil || g.Counts.Removed != 6 {
		t.Fatalf("apply c3: %v %+v", err, g)
	}
	sb.fs().WantFile("/etc/motd", "hand-written\n", 0o640, 1001, 1002)
	sb.fs().WantLink("/etc/old", "/usr/share/old", 1003, 1004)
	sb.fs().WantDir("/srv/empty", 0o710, 0, 0)
	sb.fs().WantDir("/srv/tree", 0o750, 0, 0)
	sb.fs().WantFile("/srv/tree/a", "a", 0o600, 0, 0)
	if sb.exists("/etc/never") {
		t.Fatal("the reverse of an absent step created a path that was never there")
	}
}

// A directory that holds what the list does not name absent is refused
// before anything changes, naming what it holds.
func TestAbsentDirNotEmpty(t *testing.T) {
	sb := newSandbox(t)
	sb.write("/etc/motd", "m", 0o644)
	os.Mkdir(sb.host("/srv/data"), 0o755)
	sb.write("/srv/data/db", "precious", 0o600)
	sb.write("/srv/data/named", "n", 0o600)
	_, err := sb.applyErr("FILE /etc/motd absent=true\nFILE /srv/data/named absent=true\nDIR /srv/data absent=true", "c1")
	if err == nil || !strings.Contains(err.Error(), "/srv/data is a directory holding db") || strings.Contains(err.Error(), "named") {
		t.Fatalf("err = %v", err)
	}
	sb.fs().WantFile("/etc/motd", "m", 0o644, 0, 0)
	sb.fs().WantFile("/srv/data/named", "n", 0o600, 0, 0)
}

// A file trail wrote and then asks to be absent is removed; the origin
// trail kept from before it managed the path comes back when the step
// goes, whatever happened in between; turned present again, it is
// written over that origin, keeping the origin's mode, as a fresh apply.
func TestAbsentModify(t *testing.T) {
	sb := newSandbox(t)
	sb.write("/etc/issue", "debian\n", 0o640)
	sb.apply("FILE /etc/issue {trail's} mode=0600", "c1")
	// A remove (the origin back) and an add (removing it again), which
	// the mass-removal guard does not count: the target stays managed.
	g := sb.apply("FILE /etc/issue absent=true", "c2")
	if g.Counts.Removed != 1 || g.Counts.Added != 1 || sb.exists("/etc/issue") {
		t.Fatalf("counts = %+v, exists = %v", g.Counts, sb.exists("/etc/issue"))
	}
	sb.apply("FILE /etc/issue {trail's}", "c3")
	sb.fs().WantFile("/etc/issue", "trail's", 0o640, 0, 0)
	g, err := sb.e.Apply(context.Background(), sb.list(""), Meta{Commit: "c0", Deliberate: true})
	if err != nil || g.Counts.Removed != 1 {
		t.Fatalf("apply c0: %v %+v", err, g)
	}
	sb.fs().WantFile("/etc/issue", "debian\n", 0o640, 0, 0)
}

// A path that comes back where the list says absent is drift: reported,
// and with drift=heal removed again, its content saved first.
func TestAbsentDrift(t *testing.T) {
	sb := newSandbox(t)
	sb.apply("FILE /etc/gone absent=true drift=heal\nLINK /etc/nolink absent=true", "c1")
	sb.write("/etc/gone", "came back", 0o644)
	os.Symlink("x", sb.host("/etc/nolink"))
	d, err := sb.e.Drift()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, x := range d {
		got = append(got, x.ID.String()+" "+x.Policy+" "+strings.Join(x.Changed, ","))
	}
	if strings.Join(got, "|") != "FILE /etc/gone heal state|LINK /etc/nolink report state" {
		t.Fatalf("drift = %q", got)
	}
	g, err := sb.e.Heal(context.Background())
	if err != nil || g.Counts.Modified != 1 {
		t.Fatalf("heal: %v %+v", err, g)
	}
	if sb.exists("/etc/gone") || !sb.exists("/etc/nolink") {
		t.Fatal("heal did not remove exactly the drift=heal path")
	}
	if b, err := sb.e.Store().Get(kind.HashKey([]byte("came back"))); err != nil || string(b) != "came back" {
		t.Fatal("the drifted content was not saved before it was removed")
	}
}

// treeSnap lists everything under p in the sandbox: each entry's path,
// type, mode, owner, group, and content or link target.
func treeSnap(t *testing.T, sb *sandbox, p string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(sb.host(p), func(h string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		var st syscall.Stat_t
		if err := syscall.Lstat(h, &st); err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s %o %d %d", strings.TrimPrefix(h, sb.root), st.Mode, st.Uid, st.Gid)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			to, _ := os.Readlink(h)
			b.WriteString(" -> " + to)
		case d.Type().IsRegular():
			data, _ := os.ReadFile(h)
			fmt.Fprintf(&b, " %q", data)
		}
		b.WriteByte('\n')
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// A directory with recursive=true goes with everything in it, saved first
// as one archive; its reverse gives back every entry with its mode, owner
// and content or target.
func TestAbsentTree(t *testing.T) {
	sb := newSandbox(t)
	os.Mkdir(sb.host("/srv/data"), 0o750)
	os.Chown(sb.host("/srv/data"), 1001, 1001)
	sb.write("/srv/data/db", "precious", 0o600)
	os.Mkdir(sb.host("/srv/data/sub"), 0o700)
	os.Chmod(sb.host("/srv/data/sub"), 0o2770)
	sb.write("/srv/data/sub/deep", "deep", 0o640)
	os.Chown(sb.host("/srv/data/sub/deep"), 1002, 50)
	os.Symlink("../db", sb.host("/srv/data/sub/link"))
	os.Lchown(sb.host("/srv/data/sub/link"), 1003, 1003)
	os.Mkdir(sb.host("/srv/data/empty"), 0o755)
	before := treeSnap(t, sb, "/srv/data")
	if _, err := sb.applyErr("DIR /srv/data absent=true", "c0"); err == nil || !strings.Contains(err.Error(), "add recursive = true") {
		t.Fatalf("a non-empty directory without recursive: %v", err)
	}
	list := "DIR /srv/data absent=true recursive=true\nFILE /etc/keep {k}"
	sb.apply(list, "c1")
	if sb.exists("/srv/data") {
		t.Fatal("/srv/data is still there")
	}
	if g := sb.apply(list, "c2"); g.Counts.Added+g.Counts.Modified+g.Counts.Removed != 0 {
		t.Fatalf("a second apply changed something: %+v", g.Counts)
	}
	g, err := sb.e.Apply(context.Background(), sb.list("FILE /etc/keep {k}"), Meta{Commit: "c3", Deliberate: true})
	if err != nil || g.Counts.Removed != 1 {
		t.Fatalf("apply c3: %v %+v", err, g)
	}
	if got := treeSnap(t, sb, "/srv/data"); got != before {
		t.Fatalf("the tree after the reverse:\n%s\nwant:\n%s", got, before)
	}
}

// Putting a tree back over a directory that is there again (as after a
// removal cut off half way) makes what is missing and leaves what is there.
func TestAbsentTreeMerge(t *testing.T) {
	sb := newSandbox(t)
	sb.write("/srv/data/a", "a", 0o600)
	sb.write("/srv/data/sub/b", "b", 0o600)
	sb.apply("DIR /srv/data absent=true recursive=true\nFILE /etc/keep {k}", "c1")
	sb.write("/srv/data/a", "written since", 0o644)
	g, err := sb.e.Apply(context.Background(), sb.list("FILE /etc/keep {k}"), Meta{Commit: "c2", Deliberate: true})
	if err != nil || g.Counts.Removed != 1 {
		t.Fatalf("apply c2: %v %+v", err, g)
	}
	sb.fs().WantFile("/srv/data/a", "written since", 0o644, 0, 0)
	sb.fs().WantFile("/srv/data/sub/b", "b", 0o600, 0, 0)
}

// A tree that cannot be saved is not removed: a special file in it is
// refused by name, and a store that cannot take the archive is reported
// with the store's error; nothing changes either way.
func TestAbsentTreeNotSaved(t *testing.T) {
	sb := newSandbox(t)
	sb.write("/etc/motd", "m", 0o644)
	sb.write("/srv/data/a", "a", 0o600)
	sb.write("/srv/data/sub/b", "b", 0o600)
	if err := syscall.Mkfifo(sb.host("/srv/data/sub/fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	list := "DIR /srv/data absent=true recursive=true\nFILE /etc/motd absent=true"
	unchanged := func(before string) {
		t.Helper()
		sb.fs().WantFile("/etc/motd", "m", 0o644, 0, 0)
		if got := treeSnap(t, sb, "/srv/data"); got != before {
			t.Fatalf("the tree changed:\n%s\nwant:\n%s", got, before)
		}
	}
	before := treeSnap(t, sb, "/srv/data")
	if _, err := sb.applyErr(list, "c1"); err == nil || !strings.Contains(err.Error(), "/srv/data/sub/fifo is a special file") {
		t.Fatalf("a tree holding a fifo: %v", err)
	}
	unchanged(before)
	if err := os.Remove(sb.host("/srv/data/sub/fifo")); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(sb.opts.StateDir, "store", "tmp")
	if err := os.RemoveAll(tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tmp, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	before = treeSnap(t, sb, "/srv/data")
	if _, err := sb.applyErr(list, "c2"); err == nil || !strings.Contains(err.Error(), "DIR /srv/data: saving its pre-image: store: ") {
		t.Fatalf("a store that cannot take the archive: %v", err)
	}
	unchanged(before)
}
