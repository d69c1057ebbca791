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
	h.check = func(where, _, state string) {
		orig := ss.opts.StateDir
		ss.opts.StateDir = state
		defer func() { ss.opts.StateDir = orig }()
		for _, plain := range []string{"password-A\n", "password-B\n", "before trail\n"} {
			if tr := ss.stateTraces(plain); len(tr) > 0 {
				t.Fatalf("%s: %q is in the state: %v", where, plain, tr)
			}
		}
	}
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
