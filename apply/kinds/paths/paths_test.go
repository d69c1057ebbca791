package paths_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"trail/apply"
	"trail/apply/internal/sandbox"
	"trail/apply/internal/sandbox/engine"
	"trail/stepfmt"
)

// Each case applies a list onto a prepared root, checks the result, then
// applies the empty list: the root must be exactly as it was before.
func TestForwardReverse(t *testing.T) {
	cases := map[string]struct {
		setup func(sb *engine.Sandbox)
		steps string
		check func(t *testing.T, sb *engine.Sandbox)
	}{
		"new file gets defaults": {
			steps: "FILE /etc/app.conf {hello}",
			check: func(t *testing.T, sb *engine.Sandbox) {
				sb.WantFile("/etc/app.conf", "hello", 0o644, 0, 0)
			},
		},
		"new file with mode owner group": {
			steps: "FILE /etc/app.conf {hello} mode=0640 owner=alice group=staff",
			check: func(t *testing.T, sb *engine.Sandbox) {
				sb.WantFile("/etc/app.conf", "hello", 0o640, 1000, 50)
			},
		},
		"numeric owner": {
			steps: "FILE /etc/app.conf {hello} owner=4242 group=4343",
			check: func(t *testing.T, sb *engine.Sandbox) {
				sb.WantFile("/etc/app.conf", "hello", 0o644, 4242, 4343)
			},
		},
		"existing file keeps unmanaged attributes": {
			setup: func(sb *engine.Sandbox) {
				sb.Write("/etc/motd", "old", 0o600)
				os.Chown(sb.Host("/etc/motd"), 1001, 1001)
			},
			steps: "FILE /etc/motd {new}",
			check: func(t *testing.T, sb *engine.Sandbox) {
				sb.WantFile("/etc/motd", "new", 0o600, 1001, 1001)
			},
		},
		"existing file gets managed attributes": {
			setup: func(sb *engine.Sandbox) {
				sb.Write("/etc/motd", "old", 0o600)
				os.Chown(sb.Host("/etc/motd"), 1001, 1001)
			},
			steps: "FILE /etc/motd {new} mode=0644 owner=root group=root",
			check: func(t *testing.T, sb *engine.Sandbox) {
				sb.WantFile("/etc/motd", "new", 0o644, 0, 0)
			},
		},
		"setuid survives chown": {
			setup: func(sb *engine.Sandbox) { sb.Write("/usr/bin/tool", "bin", 0o755) },
			steps: "FILE /usr/bin/tool {bin} mode=4755 owner=alice",
			check: func(t *testing.T, sb *engine.Sandbox) {
				sb.WantFile("/usr/bin/tool", "bin", 0o4755, 1000, 0)
			},
		},
		"new directory": {
			steps: "DIR /srv/data\nDIR /srv/data/sub mode=0750 owner=bob group=bob",
			check: func(t *testing.T, sb *engine.Sandbox) {
				sb.WantDir("/srv/data", 0o755, 0, 0)
				sb.WantDir("/srv/data/sub", 0o750, 1001, 1001)
			},
		},
		"existing directory gets attributes back": {
			setup: func(sb *engine.Sandbox) {
				os.MkdirAll(sb.Host("/srv/www"), 0o700)
				os.Chown(sb.Host("/srv/www"), 1000, 1000)
			},
			steps: "DIR /srv/www mode=0755 owner=root group=staff",
			check: func(t *testing.T, sb *engine.Sandbox) {
				sb.WantDir("/srv/www", 0o755, 0, 50)
			},
		},
		"new symlink": {
			steps: "LINK /etc/localtime /usr/share/zoneinfo/UTC",
			check: func(t *testing.T, sb *engine.Sandbox) {
				sb.WantLink("/etc/localtime", "/usr/share/zoneinfo/UTC", 0, 0)
			},
		},
		"symlink owner is the link's": {
			setup: func(sb *engine.Sandbox) { sb.Write("/etc/real", "x", 0o644) },
			steps: "LINK /etc/alias real owner=alice group=alice",
			check: func(t *testing.T, sb *engine.Sandbox) {
				sb.WantLink("/etc/alias", "real", 1000, 1000)
				sb.WantFile("/etc/real", "x", 0o644, 0, 0)
			},
		},
		"symlink replaces a file": {
			setup: func(sb *engine.Sandbox) { sb.Write("/etc/resolv.conf", "nameserver 1.1.1.1\n", 0o644) },
			steps: "LINK /etc/resolv.conf ../run/resolv.conf",
			check: func(t *testing.T, sb *engine.Sandbox) {
				sb.WantLink("/etc/resolv.conf", "../run/resolv.conf", 0, 0)
			},
		},
		"file replaces a symlink": {
			setup: func(sb *engine.Sandbox) {
				os.Symlink("/nowhere", sb.Host("/etc/hosts"))
				os.Lchown(sb.Host("/etc/hosts"), 1001, 1001)
			},
			steps: "FILE /etc/hosts {127.0.0.1 localhost}",
			check: func(t *testing.T, sb *engine.Sandbox) {
				sb.WantFile("/etc/hosts", "127.0.0.1 localhost", 0o644, 1001, 1001)
			},
		},
		"file replaces an empty directory": {
			setup: func(sb *engine.Sandbox) {
				os.MkdirAll(sb.Host("/etc/cron.d"), 0o711)
				os.Chown(sb.Host("/etc/cron.d"), 1000, 50)
			},
			steps: "FILE /etc/cron.d {* * * * * true} mode=0644",
			check: func(t *testing.T, sb *engine.Sandbox) {
				sb.WantFile("/etc/cron.d", "* * * * * true", 0o644, 1000, 50)
			},
		},
		"directory replaces a file": {
			setup: func(sb *engine.Sandbox) { sb.Write("/etc/sudoers.d", "old file", 0o440) },
			steps: "DIR /etc/sudoers.d mode=0755\nFILE /etc/sudoers.d/admins {%admin ALL=(ALL) ALL}",
			check: func(t *testing.T, sb *engine.Sandbox) {
				sb.WantDir("/etc/sudoers.d", 0o755, 0, 0)
				sb.WantFile("/etc/sudoers.d/admins", "%admin ALL=(ALL) ALL", 0o644, 0, 0)
			},
		},
		"directory replaces a symlink": {
			setup: func(sb *engine.Sandbox) { os.Symlink("elsewhere", sb.Host("/etc/conf.d")) },
			steps: "DIR /etc/conf.d",
			check: func(t *testing.T, sb *engine.Sandbox) {
				sb.WantDir("/etc/conf.d", 0o755, 0, 0)
			},
		},
		"tree of all kinds": {
			setup: func(sb *engine.Sandbox) { sb.Write("/opt/app/keep", "unmanaged", 0o600) },
			steps: "DIR /opt/app mode=0750\nDIR /opt/app/etc\nFILE /opt/app/etc/a {a}\nLINK /opt/app/etc/b a\nFILE /opt/app/keep {managed}",
			check: func(t *testing.T, sb *engine.Sandbox) {
				sb.WantDir("/opt/app", 0o750, 0, 0)
				sb.WantFile("/opt/app/keep", "managed", 0o600, 0, 0)
				sb.WantLink("/opt/app/etc/b", "a", 0, 0)
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			sb := engine.New(t)
			sb.Opts.AllowMassRemoval = true
			sb.Open()
			if tc.setup != nil {
				tc.setup(sb)
			}
			before := sandbox.Snapshot(t, sb.Dir)
			sb.Apply(tc.steps, "c1")
			tc.check(t, sb)
			sb.Apply("", "c2")
			if after := sandbox.Snapshot(t, sb.Dir); after != before {
				t.Fatalf("reverse did not restore the root exactly:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
}

func TestModifyKeepsOrigin(t *testing.T) {
	sb := engine.New(t)
	sb.Write("/etc/motd", "debian", 0o644)
	before := sandbox.Snapshot(t, sb.Dir)
	sb.Apply("FILE /etc/motd {one}\nFILE /etc/issue {x}", "c1")
	sb.Apply("FILE /etc/motd {two} mode=0600\nFILE /etc/issue {x}", "c2")
	sb.WantFile("/etc/motd", "two", 0o600, 0, 0)
	sb.Apply("FILE /etc/issue {x}", "c3")
	if got := sb.Read("/etc/motd"); got != "debian" {
		t.Fatalf("after management ended /etc/motd = %q, want the original", got)
	}
	sb.Opts.AllowMassRemoval = true
	sb.Open()
	sb.Apply("", "c4")
	if after := sandbox.Snapshot(t, sb.Dir); after != before {
		t.Fatalf("root not restored:\n%s\nwant:\n%s", after, before)
	}
}

func TestKindChangeSamePath(t *testing.T) {
	sb := engine.New(t)
	sb.Opts.AllowMassRemoval = true
	sb.Open()
	sb.Write("/etc/x", "orig", 0o640)
	before := sandbox.Snapshot(t, sb.Dir)
	sb.Apply("FILE /etc/x {file}", "c1")
	sb.Apply("LINK /etc/x /target", "c2")
	sb.WantLink("/etc/x", "/target", 0, 0)
	sb.Apply("DIR /etc/x mode=0700\nFILE /etc/x/in {in}", "c3")
	sb.WantDir("/etc/x", 0o700, 0, 0)
	sb.Apply("FILE /etc/x {file}", "c4")
	sb.WantFile("/etc/x", "file", 0o640, 0, 0)
	sb.Apply("", "c5")
	if after := sandbox.Snapshot(t, sb.Dir); after != before {
		t.Fatalf("root not restored:\n%s\nwant:\n%s", after, before)
	}
}

func TestDirectoryWithUnmanagedFilesIsKept(t *testing.T) {
	sb := engine.New(t)
	var ev engine.Events
	sb.Opts.OnEvent = ev.Add
	sb.Opts.AllowMassRemoval = true
	sb.Open()
	sb.Apply("DIR /srv/cache\nFILE /srv/cache/managed {m}", "c1")
	sb.Write("/srv/cache/by-hand", "admin's", 0o644)
	g := sb.Apply("", "c2")
	if sb.Exists("/srv/cache/managed") {
		t.Fatal("the managed file was not removed")
	}
	if got := sb.Read("/srv/cache/by-hand"); got != "admin's" {
		t.Fatalf("unmanaged file changed: %q", got)
	}
	if g.Counts.Kept != 1 || len(g.Kept) != 1 || !strings.Contains(g.Kept[0], "by-hand") {
		t.Fatalf("generation does not report the kept directory: %+v", g)
	}
	kept := 0
	for _, e := range ev.Of(apply.EventStep) {
		if e.Result == apply.StepKept {
			kept++
		}
	}
	if kept != 1 {
		t.Fatalf("%d kept step events, want 1", kept)
	}
}

func TestFileOverNonEmptyDirectoryRefused(t *testing.T) {
	sb := engine.New(t)
	sb.Write("/etc/nginx/nginx.conf", "x", 0o644)
	before := sandbox.Snapshot(t, sb.Dir)
	g, err := sb.ApplyErr("FILE /etc/nginx {oops}", "c1")
	if err == nil || !strings.Contains(err.Error(), "test.steps:1") || !strings.Contains(err.Error(), "non-empty directory") {
		t.Fatalf("err = %v, want a refusal at test.steps:1 naming the non-empty directory", err)
	}
	if g == nil || g.Result != apply.ResultRefused || g.ErrorSource != "test.steps:1" {
		t.Fatalf("generation = %+v, want refused at test.steps:1", g)
	}
	if after := sandbox.Snapshot(t, sb.Dir); after != before {
		t.Fatal("a refused apply changed the root")
	}
	if cur, _ := sb.E.Current(); cur != nil {
		t.Fatalf("a refused apply became current: %+v", cur)
	}
}

func TestPlanErrorsNameSources(t *testing.T) {
	sb := engine.New(t)
	l := sb.List("FILE /etc/a {a} owner=nobody\nFILE /missing/b {b}\nFILE /etc/c sha256:" + strings.Repeat("ab", 32) + "\nUSER deploy uid=1000")
	_, err := sb.E.Plan(l)
	var el stepfmt.ErrorList
	if !errors.As(err, &el) || len(el) != 4 {
		t.Fatalf("apply.Plan error = %v, want 4 errors", err)
	}
	for i, want := range []string{"test.steps:1: FILE /etc/a: user \"nobody\" is not in", "test.steps:2: FILE /missing/b: parent directory /missing does not exist",
		"test.steps:3: FILE /etc/c: content sha256:abab", "test.steps:4: USER deploy: uid 1000 already belongs to user alice"} {
		if !strings.HasPrefix(el[i].Error(), want) {
			t.Errorf("error %d = %q, want prefix %q", i, el[i], want)
		}
	}
}

func TestPlanPredictsEarlierChanges(t *testing.T) {
	sb := engine.New(t)
	sb.Write("/etc/old/f", "x", 0o644)
	sb.Apply("DIR /etc/new\nFILE /etc/new/f {f}", "c1")
	p, err := sb.E.Plan(sb.List("LINK /etc/new /etc/old\nDIR /data\nDIR /data/a\nFILE /data/a/b {b}"))
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
