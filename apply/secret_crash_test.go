package apply

import (
	"testing"
)

// An apply that changes a secret (whose pre-image is sealed) and a plain
// file is killed at every boundary; recovery, with the host's key,
// leaves the root wholly at A (the secret as it was, byte for byte) or,
// when the record says so, at B, B applied again gives B, and no blob
// holds a secret in the clear.
func TestSecretCrashAtEveryBoundary(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary at every crash point")
	}
	ss := newSecretSandbox(t)
	ss.write("/etc/app/db.pass", "before trail\n", 0o640)
	ss.apply("DIR /srv/a\nDIR /etc/app\nFILE /etc/app/db.pass "+ss.secret("password-A\n")+" secret=age mode=0600\nFILE /srv/a/f {a}\n", "A")
	b := "DIR /srv/a\nDIR /etc/app\nFILE /etc/app/db.pass " + ss.secret("password-B\n") + " secret=age mode=0600\nFILE /srv/a/f {b}\nFILE /srv/a/g {g}\n"
	ss.e.Close()
	old := snapshot(t, ss.root)
	decrypt, seal := ageFuncs(ss.id)
	h := &crashHarness{t: t, root: ss.root, state: ss.opts.StateDir, good: writeList(t, ss.sandbox, b), goodList: ss.list(b),
		snap: snapshot, env: []string{"TRAIL_TEST_AGEKEY=" + ss.id.String()},
		opts: Options{Decrypt: decrypt, Seal: seal}}
	h.list = h.good
	h.check = ss.noTraces(t, "password-A\n", "password-B\n", "before trail\n")
	root, st := h.fresh(0)
	h.run(root, st, h.good, 0)
	want := snapshot(t, root)
	if want == old {
		t.Fatal("B changed nothing: the test is void")
	}
	points := h.everyPoint(old, want)
	if points < 5 {
		t.Fatalf("only %d crash points: the hook is not wired", points)
	}
	t.Logf("%d crash points, each recovered to A or B and applied again to B", points)
}

// An apply whose USER and GROUP steps seal what they save of /etc/shadow
// and /etc/gshadow (a secret step names both), and one that reverses
// them, decrypting it, are killed at every boundary: recovery leaves the
// account files wholly as before or after, and no state file holds the
// shadow field or the gshadow line.
func TestSecretAccountPartsCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary at every crash point")
	}
	for _, dir := range []string{"reverse", "capture"} {
		t.Run(dir, func(t *testing.T) {
			ss := newSecretSandbox(t)
			ss.fs().WithShadow(true)
			const field, line = "$6$salt$secretbob", "staff:$6$grp$secretstaff:bob:"
			shadow := "root:*:19000:0:99999:7:::\nalice:!:19000:0:99999:7:::\nbob:" + field + ":19000:0:99999:7:::\n"
			gshadow := "root:*::\n" + line + "\nalice:!::\nbob:!::\n"
			files := "DIR /srv/a\nDIR /srv/b\nDIR /srv/c\nFILE /etc/shadow " + ss.secret(shadow) + " secret=age mode=0640\n" +
				"FILE /etc/gshadow " + ss.secret(gshadow) + " secret=age mode=0640\n"
			acc := files + "USER bob shell=/bin/bash password=!\nGROUP staff absent=true\n"
			a, b := acc, files
			if dir == "capture" {
				a, b = files, acc
			}
			ss.apply(files, "0")
			ss.apply(a, "A")
			ss.e.Close()
			old := kindsSnapshot(t, ss.root)
			decrypt, seal := ageFuncs(ss.id)
			h := &crashHarness{t: t, root: ss.root, state: ss.opts.StateDir, good: writeList(t, ss.sandbox, b), goodList: ss.list(b),
				env:  []string{"TRAIL_TEST_AGEKEY=" + ss.id.String()},
				opts: Options{Decrypt: decrypt, Seal: seal}}
			h.list = h.good
			h.check = ss.noTraces(t, field, line)
			root, st := h.fresh(0)
			h.run(root, st, h.good, 0)
			want := kindsSnapshot(t, root)
			if want == old {
				t.Fatal("B changed nothing: the test is void")
			}
			if points := h.everyPoint(old, want); points < 5 {
				t.Fatalf("only %d crash points: the hook is not wired", points)
			}
		})
	}
}

// noTraces is a crash harness check: none of plains is anywhere in the
// state directory a crash point left.
func (ss *secretSandbox) noTraces(t *testing.T, plains ...string) func(where, _, state string) {
	return func(where, _, state string) {
		orig := ss.opts.StateDir
		ss.opts.StateDir = state
		defer func() { ss.opts.StateDir = orig }()
		for _, plain := range plains {
			if tr := ss.stateTraces(plain); len(tr) > 0 {
				t.Fatalf("%s: %q is in the state: %v", where, plain, tr)
			}
		}
	}
}
