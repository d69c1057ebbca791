package apply

import (
	"context"
	"fmt"
	"maps"
	"os"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"trail/internal/lineedit"
)

// noSecretInState fails when a plaintext, or its hash, is in the state
// directory outside the applied record and the drift index.
func (ss *secretSandbox) noSecretInState(when string, plains ...string) {
	ss.t.Helper()
	for _, plain := range plains {
		if tr := ss.stateTraces(plain); len(tr) > 0 {
			ss.t.Errorf("%s: %q or its hash is in the state: %v", when, plain, tr)
		}
	}
}

// A directory removed with everything in it, in the apply that takes out
// the secret step of a file in it, is saved as one archive before that
// step's reverse puts the file back: the archive is sealed, so the store
// holds neither the secret nor what it replaced in the clear, and a
// rollback puts the tree and the secret back exactly.
func TestSecretInRemovedTree(t *testing.T) {
	ss := newSecretSandbox(t)
	ss.write("/etc/app/db.pass", "before trail\n", 0o640)
	ss.write("/etc/app/other", "plain\n", 0o644)
	c1 := anchors + "DIR /etc/app\nFILE /etc/app/db.pass " + ss.secret("password-one\n") + " secret=age mode=0600\n"
	ss.apply(c1, "c1")
	ss.apply(anchors+"DIR /etc/app absent=true recursive=true\n", "c2")
	if ss.exists("/etc/app") {
		t.Fatal("/etc/app is still there")
	}
	ss.noSecretInState("after the tree's removal", "password-one\n", "before trail\n")
	ss.apply(c1, "c1")
	ss.fs().WantFile("/etc/app/db.pass", "password-one\n", 0o600, uint32(os.Getuid()), uint32(os.Getgid()))
	ss.fs().WantFile("/etc/app/other", "plain\n", 0o644, uint32(os.Getuid()), uint32(os.Getgid()))
	ss.apply(anchors, "c0")
	ss.fs().WantFile("/etc/app/db.pass", "before trail\n", 0o640, uint32(os.Getuid()), uint32(os.Getgid()))
	ss.noSecretInState("after the rollbacks", "password-one\n", "before trail\n")
}

// A secret step made an EDIT of the same path edits the file as a fresh
// apply of the EDIT would: the file as it was before trail, not the
// secret (nor its sealed ciphertext); taking the EDIT out gives that file
// back, not the secret; and no apply stores the secret, nor what it
// replaced (kept sealed, and so the EDIT's results from it and its
// pre-images), in the clear.
func TestSecretThenEdit(t *testing.T) {
	ss := newSecretSandbox(t)
	ss.write("/etc/app/db.conf", "password=old\nuser=old\n", 0o600)
	ss.apply(anchors+"DIR /etc/app\nFILE /etc/app/db.conf "+ss.secret("password=one\n")+" secret=age\n", "c1")
	edits, err := ss.e.Store().Put(lineedit.Format([]lineedit.Edit{{Line: "user=app", Regexp: "^user="}}))
	if err != nil {
		t.Fatal(err)
	}
	ss.apply(anchors+"DIR /etc/app\n"+fmt.Sprintf("EDIT /etc/app/db.conf %s\n", edits), "c2")
	ss.fs().WantFile("/etc/app/db.conf", "password=old\nuser=app\n", 0o600, uint32(os.Getuid()), uint32(os.Getgid()))
	ss.noSecretInState("after the edit replaced the secret", "password=one\n", "password=old\n")
	edits2, err := ss.e.Store().Put(lineedit.Format([]lineedit.Edit{{Line: "user=app2", Regexp: "^user="}}))
	if err != nil {
		t.Fatal(err)
	}
	ss.apply(anchors+"DIR /etc/app\n"+fmt.Sprintf("EDIT /etc/app/db.conf %s\n", edits2), "c3")
	ss.fs().WantFile("/etc/app/db.conf", "password=old\nuser=app2\n", 0o600, uint32(os.Getuid()), uint32(os.Getgid()))
	ss.noSecretInState("after the edits changed", "password=one\n", "password=old\n")
	if d, err := ss.e.Drift(); err != nil || len(d) != 0 {
		t.Fatalf("drift after the edits changed: %+v %v", d, err)
	}
	ss.apply(anchors+"DIR /etc/app\n", "c4")
	ss.fs().WantFile("/etc/app/db.conf", "password=old\nuser=old\n", 0o600, uint32(os.Getuid()), uint32(os.Getgid()))
	ss.noSecretInState("after the edit's removal", "password=one\n", "password=old\n")
}

// Every other way a secret path's content is saved keeps it sealed: the
// removal of the step (over a file and over nothing), its replacement by
// a plain FILE, a LINK or an absent FILE of the path, a drifted secret
// put back by force or removed, and rollbacks across all of them.
func TestSecretPathsSaveSealed(t *testing.T) {
	ss := newSecretSandbox(t)
	ss.write("/etc/app/a.pass", "a before trail\n", 0o640)
	plains := []string{"a before trail\n", "secret-a\n", "secret-b\n", "by hand a\n", "by hand b\n"}
	secrets := anchors + "DIR /etc/app\nFILE /etc/app/a.pass " + ss.secret("secret-a\n") + " secret=age drift=report\n" +
		"FILE /etc/app/b.pass " + ss.secret("secret-b\n") + " secret=age drift=report\n"
	ss.apply(secrets, "s")
	for i, other := range []string{
		anchors + "DIR /etc/app\n",
		anchors + "DIR /etc/app\nFILE /etc/app/a.pass {plain a\n}\nFILE /etc/app/b.pass {plain b\n}\n",
		anchors + "DIR /etc/app\nLINK /etc/app/a.pass /dev/null\nFILE /etc/app/b.pass absent=true\n",
	} {
		ss.apply(other, fmt.Sprint("o", i))
		ss.noSecretInState(fmt.Sprint("after the other list ", i), plains...)
		ss.apply(secrets, "s")
		ss.fs().WantFile("/etc/app/a.pass", "secret-a\n", 0o640, uint32(os.Getuid()), uint32(os.Getgid()))
		ss.noSecretInState(fmt.Sprint("back from the other list ", i), plains...)
	}
	time.Sleep(60 * time.Millisecond) // past the racy window
	ss.write("/etc/app/a.pass", "by hand a\n", 0o600)
	ss.write("/etc/app/b.pass", "by hand b\n", 0o600)
	if _, err := ss.e.Apply(context.Background(), ss.list(secrets), Meta{Commit: "s", Force: true}); err != nil {
		t.Fatal(err)
	}
	if got := ss.read("/etc/app/b.pass"); got != "secret-b\n" {
		t.Errorf("force left b.pass %q", got)
	}
	time.Sleep(60 * time.Millisecond)
	ss.write("/etc/app/a.pass", "by hand a\n", 0o600)
	ss.apply(anchors+"DIR /etc/app\n", "o")
	ss.fs().WantFile("/etc/app/a.pass", "a before trail\n", 0o640, uint32(os.Getuid()), uint32(os.Getgid()))
	if ss.exists("/etc/app/b.pass") {
		t.Error("b.pass, which trail made, is still there")
	}
	ss.noSecretInState("at the end", plains...)
}

// An account file a secret step names is saved sealed in the undo image
// of the account steps of an apply, like any of its pre-images, and a
// failed apply puts it back decrypted, byte for byte.
func TestSecretAccountFileUndo(t *testing.T) {
	ss := newSecretSandbox(t)
	ss.fs().WithShadow(true)
	const gshadow = "root:*::\nstaff:!::\nteam:$6$salt$hash:admin:alice\n"
	step := "FILE /etc/gshadow " + ss.secret(gshadow) + " secret=age mode=0640\n"
	ss.apply(anchors+step, "c1")
	want := ss.accounts()
	_, err := ss.applyErr(anchors+step+"USER u1 uid=1501\nCHECK fails run=false timeout=5s\n", "c2")
	if err == nil {
		t.Fatal("an apply whose check fails succeeded")
	}
	if got := ss.read("/etc/gshadow"); got != gshadow {
		t.Fatalf("after the failed apply /etc/gshadow is %q, want the secret as it was", got)
	}
	if got := ss.accounts(); !maps.Equal(got, want) {
		t.Fatalf("after the failed apply the account files are:\n%q\nwant:\n%q", got, want)
	}
	ss.noSecretInState("after the failed apply", gshadow)
}

// When secret steps name /etc/shadow and /etc/gshadow, the pieces of them
// that account steps save for their reverses (a user's shadow field, a
// removed group's gshadow line) are kept sealed too, and the reverses
// decrypt them to put the user's password and the group's line back.
func TestSecretAccountPartsSealed(t *testing.T) {
	ss := newSecretSandbox(t)
	ss.fs().WithShadow(true)
	const (
		field   = "$6$salt$secretbob"
		line    = "staff:$6$grp$secretstaff:bob:"
		shadow  = "root:*:19000:0:99999:7:::\nalice:!:19000:0:99999:7:::\nbob:" + field + ":19000:0:99999:7:::\n"
		gshadow = "root:*::\n" + line + "\nalice:!::\nbob:!::\n"
	)
	files := anchors + "FILE /etc/shadow " + ss.secret(shadow) + " secret=age mode=0640\n" +
		"FILE /etc/gshadow " + ss.secret(gshadow) + " secret=age mode=0640\n"
	ss.apply(files, "c1")
	ss.apply(files+"USER bob shell=/bin/bash password=!\nGROUP staff absent=true\n", "c2")
	if strings.Contains(ss.read("/etc/shadow"), field) || strings.Contains(ss.read("/etc/gshadow"), "staff:") {
		t.Fatalf("the account steps did not change the files:\n%s\n%s", ss.read("/etc/shadow"), ss.read("/etc/gshadow"))
	}
	ss.noSecretInState("after the account steps", field, line)
	ss.apply(files+"USER bob shell=/bin/bash\nGROUP staff absent=true\n", "c3")
	if got := ss.read("/etc/shadow"); !strings.Contains(got, "\nbob:"+field+":") {
		t.Errorf("bob's password is not back in /etc/shadow once the step leaves it:\n%s", got)
	}
	ss.apply(files+"USER bob shell=/bin/bash password=!\nGROUP staff absent=true\n", "c2")
	ss.apply(files, "c4")
	if got := ss.read("/etc/shadow"); !strings.Contains(got, "\nbob:"+field+":") {
		t.Errorf("bob's password is not back in /etc/shadow:\n%s", got)
	}
	if got := ss.read("/etc/gshadow"); !strings.Contains(got, "\n"+line+"\n") {
		t.Errorf("staff's gshadow line is not back:\n%s", got)
	}
	ss.noSecretInState("after the reverses", field, line)
	if tr := traces(field, ss.eventTexts()); len(tr) > 0 {
		t.Errorf("events show the shadow field: %v", tr)
	}
}

// A sealed shadow field or gshadow line that the host's key cannot open
// (the key was replaced) refuses the reverse that needs it at plan, before
// any change: not a failure half-way through the apply, after groupadd.
func TestSecretAccountPartsUnopenable(t *testing.T) {
	for _, removed := range []string{"USER", "GROUP"} {
		t.Run(removed, func(t *testing.T) {
			ss := newSecretSandbox(t)
			ss.fs().WithShadow(true)
			shadow := "root:*:19000:0:99999:7:::\nbob:$6$salt$secretbob:19000:0:99999:7:::\n"
			gshadow := "root:*::\nstaff:$6$grp$secretstaff:bob:\nbob:!::\n"
			files := anchors + "FILE /etc/shadow " + ss.secret(shadow) + " secret=age mode=0640\n" +
				"FILE /etc/gshadow " + ss.secret(gshadow) + " secret=age mode=0640\n"
			user, group := "USER bob shell=/bin/bash password=!\n", "GROUP staff absent=true\n"
			ss.apply(files+user+group, "c2")
			id, err := age.GenerateX25519Identity()
			if err != nil {
				t.Fatal(err)
			}
			ss.opts.Decrypt, ss.opts.Seal = ageFuncs(id)
			ss.open()
			next, who := files+group, "user bob"
			if removed == "GROUP" {
				next, who = files+user, "group staff"
			}
			before := ss.accounts()
			if _, err := ss.e.Plan(ss.list(next)); err == nil || !strings.Contains(err.Error(), who) {
				t.Errorf("plan of the reverse the key cannot open: %v, want an error naming %s", err, who)
			}
			n := len(ss.ev)
			if _, err := ss.applyErr(next, "c3"); err == nil {
				t.Fatal("the apply succeeded")
			}
			for _, e := range ss.ev[n:] {
				if e.Type == EventStepFailed || e.Type == EventRollback {
					t.Errorf("the apply was not refused before any change: %s %v", e.Type, e.Err)
				}
			}
			if got := ss.accounts(); !maps.Equal(got, before) {
				t.Errorf("the refused apply changed the account files:\n%q\nwant:\n%q", got, before)
			}
		})
	}
}

// The hash a sealed shadow field is named by names no blob: the store
// check of a status and fsck find nothing missing for it, or for the
// sealed gshadow line.
func TestSecretAccountPartsStoreCheck(t *testing.T) {
	ss := newSecretSandbox(t)
	ss.fs().WithShadow(true)
	shadow := "root:*:19000:0:99999:7:::\nbob:$6$salt$secretbob:19000:0:99999:7:::\n"
	gshadow := "root:*::\nstaff:$6$grp$secretstaff:bob:\nbob:!::\n"
	ss.apply(anchors+"FILE /etc/shadow "+ss.secret(shadow)+" secret=age mode=0640\n"+
		"FILE /etc/gshadow "+ss.secret(gshadow)+" secret=age mode=0640\n"+
		"USER bob shell=/bin/bash\nGROUP staff absent=true\n", "c1")
	if probs, err := ss.e.CheckBlobs(); err != nil || len(probs) > 0 {
		t.Errorf("the store check: %v %v", probs, err)
	}
	rep, err := Fsck(ss.opts.StateDir)
	if err != nil || !rep.OK() {
		t.Errorf("fsck: %+v %v", rep, err)
	}
}
