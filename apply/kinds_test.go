package apply

import (
	"errors"
	"os"
	"strings"
	"testing"

	"trail/stepfmt"
)

// Each case applies a list onto a prepared root, checks the result, then
// applies the empty list: the root must be exactly as it was before.
func TestForwardReverse(t *testing.T) {
	cases := map[string]struct {
		setup func(sb *sandbox)
		steps string
		check func(t *testing.T, sb *sandbox)
	}{
		"new file gets defaults": {
			steps: "FILE /etc/app.conf {hello}",
			check: func(t *testing.T, sb *sandbox) {
				wantFile(t, sb, "/etc/app.conf", "hello", 0o644, 0, 0)
			},
		},
		"new file with mode owner group": {
			steps: "FILE /etc/app.conf {hello} mode=0640 owner=alice group=staff",
			check: func(t *testing.T, sb *sandbox) {
				wantFile(t, sb, "/etc/app.conf", "hello", 0o640, 1000, 50)
			},
		},
		"numeric owner": {
			steps: "FILE /etc/app.conf {hello} owner=4242 group=4343",
			check: func(t *testing.T, sb *sandbox) {
				wantFile(t, sb, "/etc/app.conf", "hello", 0o644, 4242, 4343)
			},
		},
		"existing file keeps unmanaged attributes": {
			setup: func(sb *sandbox) { sb.write("/etc/motd", "old", 0o600); os.Chown(sb.host("/etc/motd"), 1001, 1001) },
			steps: "FILE /etc/motd {new}",
			check: func(t *testing.T, sb *sandbox) {
				wantFile(t, sb, "/etc/motd", "new", 0o600, 1001, 1001)
			},
		},
		"existing file gets managed attributes": {
			setup: func(sb *sandbox) { sb.write("/etc/motd", "old", 0o600); os.Chown(sb.host("/etc/motd"), 1001, 1001) },
			steps: "FILE /etc/motd {new} mode=0644 owner=root group=root",
			check: func(t *testing.T, sb *sandbox) {
				wantFile(t, sb, "/etc/motd", "new", 0o644, 0, 0)
			},
		},
		"setuid survives chown": {
			setup: func(sb *sandbox) { sb.write("/usr/bin/tool", "bin", 0o755) },
			steps: "FILE /usr/bin/tool {bin} mode=4755 owner=alice",
			check: func(t *testing.T, sb *sandbox) {
				wantFile(t, sb, "/usr/bin/tool", "bin", 0o4755, 1000, 0)
			},
		},
		"new directory": {
			steps: "DIR /srv/data\nDIR /srv/data/sub mode=0750 owner=bob group=bob",
			check: func(t *testing.T, sb *sandbox) {
				wantDir(t, sb, "/srv/data", 0o755, 0, 0)
				wantDir(t, sb, "/srv/data/sub", 0o750, 1001, 1001)
			},
		},
		"existing directory gets attributes back": {
			setup: func(sb *sandbox) { os.MkdirAll(sb.host("/srv/www"), 0o700); os.Chown(sb.host("/srv/www"), 1000, 1000) },
			steps: "DIR /srv/www mode=0755 owner=root group=staff",
			check: func(t *testing.T, sb *sandbox) {
				wantDir(t, sb, "/srv/www", 0o755, 0, 50)
			},
		},
		"new symlink": {
			steps: "LINK /etc/localtime /usr/share/zoneinfo/UTC",
			check: func(t *testing.T, sb *sandbox) {
				wantLink(t, sb, "/etc/localtime", "/usr/share/zoneinfo/UTC", 0, 0)
			},
		},
		"symlink owner is the link's": {
			setup: func(sb *sandbox) { sb.write("/etc/real", "x", 0o644) },
			steps: "LINK /etc/alias real owner=alice group=alice",
			check: func(t *testing.T, sb *sandbox) {
				wantLink(t, sb, "/etc/alias", "real", 1000, 1000)
				wantFile(t, sb, "/etc/real", "x", 0o644, 0, 0)
			},
		},
		"symlink replaces a file": {
			setup: func(sb *sandbox) { sb.write("/etc/resolv.conf", "nameserver 1.1.1.1\n", 0o644) },
			steps: "LINK /etc/resolv.conf ../run/resolv.conf",
			check: func(t *testing.T, sb *sandbox) {
				wantLink(t, sb, "/etc/resolv.conf", "../run/resolv.conf", 0, 0)
			},
		},
		"file replaces a symlink": {
			setup: func(sb *sandbox) {
				os.Symlink("/nowhere", sb.host("/etc/hosts"))
				os.Lchown(sb.host("/etc/hosts"), 1001, 1001)
			},
			steps: "FILE /etc/hosts {127.0.0.1 localhost}",
			check: func(t *testing.T, sb *sandbox) {
				wantFile(t, sb, "/etc/hosts", "127.0.0.1 localhost", 0o644, 1001, 1001)
			},
		},
		"file replaces an empty directory": {
			setup: func(sb *sandbox) {
				os.MkdirAll(sb.host("/etc/cron.d"), 0o711)
				os.Chown(sb.host("/etc/cron.d"), 1000, 50)
			},
			steps: "FILE /etc/cron.d {* * * * * true} mode=0644",
			check: func(t *testing.T, sb *sandbox) {
				wantFile(t, sb, "/etc/cron.d", "* * * * * true", 0o644, 1000, 50)
			},
		},
		"directory replaces a file": {
			setup: func(sb *sandbox) { sb.write("/etc/sudoers.d", "old file", 0o440) },
			steps: "DIR /etc/sudoers.d mode=0755\nFILE /etc/sudoers.d/admins {%admin ALL=(ALL) ALL}",
			check: func(t *testing.T, sb *sandbox) {
				wantDir(t, sb, "/etc/sudoers.d", 0o755, 0, 0)
				wantFile(t, sb, "/etc/sudoers.d/admins", "%admin ALL=(ALL) ALL", 0o644, 0, 0)
			},
		},
		"directory replaces a symlink": {
			setup: func(sb *sandbox) { os.Symlink("elsewhere", sb.host("/etc/conf.d")) },
			steps: "DIR /etc/conf.d",
			check: func(t *testing.T, sb *sandbox) {
				wantDir(t, sb, "/etc/conf.d", 0o755, 0, 0)
			},
		},
		"tree of all kinds": {
			setup: func(sb *sandbox) { sb.write("/opt/app/keep", "unmanaged", 0o600) },
			steps: "DIR /opt/app mode=0750\nDIR /opt/app/etc\nFILE /opt/app/etc/a {a}\nLINK /opt/app/etc/b a\nFILE /opt/app/keep {managed}",
			check: func(t *testing.T, sb *sandbox) {
				wantDir(t, sb, "/opt/app", 0o750, 0, 0)
				wantFile(t, sb, "/opt/app/keep", "managed", 0o600, 0, 0)
				wantLink(t, sb, "/opt/app/etc/b", "a", 0, 0)
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			sb := newSandbox(t)
			sb.opts.AllowMassRemoval = true
			sb.open()
			if tc.setup != nil {
				tc.setup(sb)
			}
			before := snapshot(t, sb.root)
			sb.apply(tc.steps, "c1")
			tc.check(t, sb)
			sb.apply("", "c2")
			if after := snapshot(t, sb.root); after != before {
				t.Fatalf("reverse did not restore the root exactly:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
}

func TestModifyKeepsOrigin(t *testing.T) {
	sb := newSandbox(t)
	sb.write("/etc/motd", "debian", 0o644)
	before := snapshot(t, sb.root)
	sb.apply("FILE /etc/motd {one}\nFILE /etc/issue {x}", "c1")
	sb.apply("FILE /etc/motd {two} mode=0600\nFILE /etc/issue {x}", "c2")
	wantFile(t, sb, "/etc/motd", "two", 0o600, 0, 0)
	sb.apply("FILE /etc/issue {x}", "c3")
	if got := sb.read("/etc/motd"); got != "debian" {
		t.Fatalf("after management ended /etc/motd = %q, want the original", got)
	}
	sb.e.opts.AllowMassRemoval = true
	sb.apply("", "c4")
	if after := snapshot(t, sb.root); after != before {
		t.Fatalf("root not restored:\n%s\nwant:\n%s", after, before)
	}
}

func TestKindChangeSamePath(t *testing.T) {
	sb := newSandbox(t)
	sb.opts.AllowMassRemoval = true
	sb.open()
	sb.write("/etc/x", "orig", 0o640)
	before := snapshot(t, sb.root)
	sb.apply("FILE /etc/x {file}", "c1")
	sb.apply("LINK /etc/x /target", "c2")
	wantLink(t, sb, "/etc/x", "/target", 0, 0)
	sb.apply("DIR /etc/x mode=0700\nFILE /etc/x/in {in}", "c3")
	wantDir(t, sb, "/etc/x", 0o700, 0, 0)
	sb.apply("FILE /etc/x {file}", "c4")
	wantFile(t, sb, "/etc/x", "file", 0o640, 0, 0)
	sb.apply("", "c5")
	if after := snapshot(t, sb.root); after != before {
		t.Fatalf("root not restored:\n%s\nwant:\n%s", after, before)
	}
}

func TestDirectoryWithUnmanagedFilesIsKept(t *testing.T) {
	sb := newSandbox(t)
	var ev events
	sb.opts.OnEvent = ev.add
	sb.opts.AllowMassRemoval = true
	sb.open()
	sb.apply("DIR /srv/cache\nFILE /srv/cache/managed {m}", "c1")
	sb.write("/srv/cache/by-hand", "admin's", 0o644)
	g := sb.apply("", "c2")
	if sb.exists("/srv/cache/managed") {
		t.Fatal("the managed file was not removed")
	}
	if got := sb.read("/srv/cache/by-hand"); got != "admin's" {
		t.Fatalf("unmanaged file changed: %q", got)
	}
	if g.Counts.Kept != 1 || len(g.Kept) != 1 || !strings.Contains(g.Kept[0], "by-hand") {
		t.Fatalf("generation does not report the kept directory: %+v", g)
	}
	kept := 0
	for _, e := range ev.of(EventStep) {
		if e.Result == StepKept {
			kept++
		}
	}
	if kept != 1 {
		t.Fatalf("%d kept step events, want 1", kept)
	}
}

func TestFileOverNonEmptyDirectoryRefused(t *testing.T) {
	sb := newSandbox(t)
	sb.write("/etc/nginx/nginx.conf", "x", 0o644)
	before := snapshot(t, sb.root)
	g, err := sb.applyErr("FILE /etc/nginx {oops}", "c1")
	if err == nil || !strings.Contains(err.Error(), "test.steps:1") || !strings.Contains(err.Error(), "non-empty directory") {
		t.Fatalf("err = %v, want a refusal at test.steps:1 naming the non-empty directory", err)
	}
	if g == nil || g.Result != ResultRefused || g.ErrorSource != "test.steps:1" {
		t.Fatalf("generation = %+v, want refused at test.steps:1", g)
	}
	if after := snapshot(t, sb.root); after != before {
		t.Fatal("a refused apply changed the root")
	}
	if cur, _ := sb.e.Current(); cur != nil {
		t.Fatalf("a refused apply became current: %+v", cur)
	}
}

func TestPlanErrorsNameSources(t *testing.T) {
	sb := newSandbox(t)
	l := sb.list("FILE /etc/a {a} owner=nobody\nFILE /missing/b {b}\nFILE /etc/c sha256:" + strings.Repeat("ab", 32) + "\nUSER deploy uid=1000")
	_, err := sb.e.Plan(l)
	var el stepfmt.ErrorList
	if !errors.As(err, &el) || len(el) != 4 {
		t.Fatalf("Plan error = %v, want 4 errors", err)
	}
	for i, want := range []string{"test.steps:1: FILE /etc/a: user \"nobody\" is not in", "test.steps:2: FILE /missing/b: parent directory /missing does not exist",
		"test.steps:3: FILE /etc/c: content sha256:abab", "test.steps:4: USER deploy: uid 1000 already belongs to user alice"} {
		if !strings.HasPrefix(el[i].Error(), want) {
			t.Errorf("error %d = %q, want prefix %q", i, el[i], want)
		}
	}
}

func TestPlanPredictsEarlierChanges(t *testing.T) {
	sb := newSandbox(t)
	sb.write("/etc/old/f", "x", 0o644)
	sb.apply("DIR /etc/new\nFILE /etc/new/f {f}", "c1")
	p, err := sb.e.Plan(sb.list("LINK /etc/new /etc/old\nDIR /data\nDIR /data/a\nFILE /data/a/b {b}"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i, c := range p.Changes {
		got = append(got, c.Op.String()+" "+c.Step.ID().String()+": "+strings.Join(p.Work[i].Changes, ", "))
	}
	want := []string{
		"remove FILE /etc/new/f: remove file",
		"remove DIR /etc/new: remove directory",
		"add LINK /etc/new: create symlink",
		"add DIR /data: create directory",
		"add DIR /data/a: create directory",
		"add FILE /data/a/b: create file",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func wantFile(t *testing.T, sb *sandbox, p, content string, mode, uid, gid uint32) {
	t.Helper()
	st := sb.stat(p)
	if st.Mode&0o170000 != 0o100000 {
		t.Fatalf("%s is not a file (mode %o)", p, st.Mode)
	}
	if got := sb.read(p); got != content {
		t.Errorf("%s content = %q, want %q", p, got, content)
	}
	if st.Mode&0o7777 != mode || st.Uid != uid || st.Gid != gid {
		t.Errorf("%s: mode %04o owner %d:%d, want %04o %d:%d", p, st.Mode&0o7777, st.Uid, st.Gid, mode, uid, gid)
	}
}

func wantDir(t *testing.T, sb *sandbox, p string, mode, uid, gid uint32) {
	t.Helper()
	st := sb.stat(p)
	if st.Mode&0o170000 != 0o040000 {
		t.Fatalf("%s is not a directory (mode %o)", p, st.Mode)
	}
	if st.Mode&0o7777 != mode || st.Uid != uid || st.Gid != gid {
		t.Errorf("%s: mode %04o owner %d:%d, want %04o %d:%d", p, st.Mode&0o7777, st.Uid, st.Gid, mode, uid, gid)
	}
}

func wantLink(t *testing.T, sb *sandbox, p, to string, uid, gid uint32) {
	t.Helper()
	st := sb.stat(p)
	if st.Mode&0o170000 != 0o120000 {
		t.Fatalf("%s is not a symlink (mode %o)", p, st.Mode)
	}
	if got, _ := os.Readlink(sb.host(p)); got != to {
		t.Errorf("%s -> %q, want %q", p, got, to)
	}
	if st.Uid != uid || st.Gid != gid {
		t.Errorf("%s owner %d:%d, want %d:%d", p, st.Uid, st.Gid, uid, gid)
	}
}
