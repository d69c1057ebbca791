package apply

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
)

// secretSandbox is a sandbox whose engine decrypts with a key made for
// the test, and that records the engine's events.
type secretSandbox struct {
	*sandbox
	id *age.X25519Identity
	ev events
}

func newSecretSandbox(t *testing.T) *secretSandbox {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	ss := &secretSandbox{sandbox: newSandbox(t), id: id}
	ss.opts.Decrypt, ss.opts.Seal = ageFuncs(id)
	ss.opts.OnEvent = ss.ev.add
	ss.open()
	return ss
}

// ageFuncs are Options.Decrypt and Options.Seal with the key id, as the
// host makes them from its age key file.
func ageFuncs(id *age.X25519Identity) (decrypt, seal func([]byte) ([]byte, error)) {
	decrypt = func(data []byte) ([]byte, error) {
		r, err := age.Decrypt(bytes.NewReader(data), id)
		if err != nil {
			return nil, err
		}
		return io.ReadAll(r)
	}
	seal = func(plain []byte) ([]byte, error) {
		var b bytes.Buffer
		w, err := age.Encrypt(&b, id.Recipient())
		if err != nil {
			return nil, err
		}
		w.Write(plain)
		if err := w.Close(); err != nil {
			return nil, err
		}
		return b.Bytes(), nil
	}
	return decrypt, seal
}

// secret encrypts plain to the sandbox's key, puts the ciphertext into
// the store and returns its key: what a compile of secret = "…" does.
func (ss *secretSandbox) secret(plain string) string {
	ss.t.Helper()
	var b bytes.Buffer
	w, err := age.Encrypt(&b, ss.id.Recipient())
	if err != nil {
		ss.t.Fatal(err)
	}
	io.WriteString(w, plain)
	if err := w.Close(); err != nil {
		ss.t.Fatal(err)
	}
	k, err := ss.e.Store().Put(b.Bytes())
	if err != nil {
		ss.t.Fatal(err)
	}
	return k
}

// traces lists where texts shows plain, or its sha256 (whole or as the
// 12 digits messages abbreviate it to).
func traces(plain string, texts map[string]string) []string {
	sum := sha256.Sum256([]byte(plain))
	h := hex.EncodeToString(sum[:])
	var out []string
	for where, s := range texts {
		if strings.Contains(s, plain) || strings.Contains(s, h[:12]) {
			out = append(out, where)
		}
	}
	return out
}

// stateTraces is traces over the state directory, less the two files
// that name what trail wrote by its hash, as they must to see drift: the
// applied record and the drift index, which only root reads (the state
// directory is 0700), as it reads the secret file itself.
func (ss *secretSandbox) stateTraces(plain string) []string {
	files := ss.stateFiles()
	delete(files, filepath.Join(ss.opts.StateDir, "applied"))
	delete(files, filepath.Join(ss.opts.StateDir, "index"))
	out := traces(plain, files)
	for p, s := range ss.stateFiles() {
		if strings.Contains(s, plain) {
			out = append(out, p+" (the plaintext)")
		}
	}
	return out
}

// eventTexts is every field of every event, as journald gets them.
func (ss *secretSandbox) eventTexts() map[string]string {
	m := map[string]string{}
	for i, e := range ss.ev {
		m[fmt.Sprintf("event %d (%s)", i, e.Type)] = fmt.Sprintf("%+v %v", e, e.Err)
	}
	return m
}

// stateFiles reads every file of the state directory, and fails unless
// each is mode 0600 or stricter.
func (ss *secretSandbox) stateFiles() map[string]string {
	ss.t.Helper()
	m := map[string]string{}
	filepath.WalkDir(ss.opts.StateDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if strings.Contains(p, "/store/") && fi.Mode().Perm() != 0o600 {
			ss.t.Errorf("blob %s is mode %04o, want 0600", p, fi.Mode().Perm())
		}
		data, _ := os.ReadFile(p)
		m[p] = string(data)
		return nil
	})
	return m
}

// A secret FILE is written decrypted, with mode 0600; a secret that only
// got a new ciphertext writes nothing; drift is seen and healed; a failed
// apply and a rollback put the previous secret back exactly, and the
// removal of the step the file that was there before trail. No event
// shows a secret or its hash, and the state directory holds no content
// the path had in the clear: what trail wrote is not kept, and what it
// replaced is kept sealed to the host's key.
func TestSecretFileLifecycle(t *testing.T) {
	ss := newSecretSandbox(t)
	ss.write("/etc/app/db.pass", "by hand before trail\n", 0o644)
	const one, two = "password-one\n", "password-two\n"
	c1 := ss.secret(one)
	step := func(k string) string {
		return "DIR /etc/app\nFILE /etc/app/db.pass " + k + " secret=age mode=0600 drift=heal\n"
	}
	ss.apply(anchors+step(c1), "c1")
	ss.fs().WantFile("/etc/app/db.pass", one, 0o600, uint32(os.Getuid()), uint32(os.Getgid()))
	if tr := ss.stateTraces(one); len(tr) > 0 {
		t.Errorf("the plaintext of the secret trail wrote is in the state: %v", tr)
	}

	c2 := ss.secret(two)
	ss.apply(anchors+step(c2), "c2")
	ss.fs().WantFile("/etc/app/db.pass", two, 0o600, uint32(os.Getuid()), uint32(os.Getgid()))
	if tr := ss.stateTraces(two); len(tr) > 0 {
		t.Errorf("the plaintext of the secret trail wrote is in the state: %v", tr)
	}

	// The same secret encrypted again is a new step, and no change.
	before := mtimes(t, ss.root)
	p, err := ss.e.Plan(ss.list(anchors + step(ss.secret(two))))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Changes) != 1 || !p.Work[0].None() {
		t.Fatalf("a new ciphertext of the same secret: %+v", p.Work)
	}
	ss.apply(anchors+step(ss.secret(two)), "c2b")
	if after := mtimes(t, ss.root); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Error("the same secret encrypted again was written again")
	}

	// Drift: seen by its decrypted content's hash, reported masked, healed.
	time.Sleep(60 * time.Millisecond) // past the racy window
	ss.write("/etc/app/db.pass", "changed by hand\n", 0o600)
	d, err := ss.e.Drift()
	if err != nil || len(d) != 1 || strings.Join(d[0].Changed, ",") != "content" {
		t.Fatalf("drift: %+v %v", d, err)
	}
	if _, err := ss.e.Heal(context.Background()); err != nil {
		t.Fatal(err)
	}
	ss.fs().WantFile("/etc/app/db.pass", two, 0o600, uint32(os.Getuid()), uint32(os.Getgid()))

	// A failed apply puts the secret back as it was.
	_, err = ss.applyErr(anchors+step(ss.secret("password-three\n"))+"CHECK fails run=false timeout=5s\n", "c3")
	if err == nil {
		t.Fatal("an apply whose check fails succeeded")
	}
	ss.fs().WantFile("/etc/app/db.pass", two, 0o600, uint32(os.Getuid()), uint32(os.Getgid()))

	// A rollback to c1 writes the first secret, exactly.
	ss.apply(anchors+step(c1), "c1")
	ss.fs().WantFile("/etc/app/db.pass", one, 0o600, uint32(os.Getuid()), uint32(os.Getgid()))

	// Taking the step out gives back what was there before trail.
	ss.apply(anchors+"DIR /etc/app\n", "c4")
	ss.fs().WantFile("/etc/app/db.pass", "by hand before trail\n", 0o644, uint32(os.Getuid()), uint32(os.Getgid()))

	texts := ss.eventTexts()
	for _, plain := range []string{one, two, "password-three\n", "changed by hand\n", "by hand before trail\n"} {
		if tr := traces(plain, texts); len(tr) > 0 {
			t.Errorf("%q or its hash is shown in %v", plain, tr)
		}
		// Every pre-image of the path was sealed: none is in the clear.
		if tr := ss.stateTraces(plain); len(tr) > 0 {
			t.Errorf("%q or its hash is in the state: %v", plain, tr)
		}
	}
	var secretChanged bool
	for _, e := range ss.ev {
		secretChanged = secretChanged || strings.Contains(e.Detail, "secret changed")
	}
	if !secretChanged {
		t.Error(`no event says "secret changed"`)
	}
	ss.stateFiles() // every blob 0600
}

// A host that cannot decrypt a secret refuses the apply at the step's
// source, and nothing changes on the machine.
func TestSecretWithoutKey(t *testing.T) {
	ss := newSecretSandbox(t)
	ss.write("/etc/app/db.pass", "as it was\n", 0o644)
	k := ss.secret("password\n")
	want := snapshot(t, ss.root)
	for _, decrypt := range []func([]byte) ([]byte, error){
		nil,
		func([]byte) ([]byte, error) { return nil, errors.New("age key /etc/trail/age.key: missing") },
	} {
		ss.opts.Decrypt, ss.opts.Seal = decrypt, decrypt
		ss.open()
		_, err := ss.applyErr("DIR /srv/new\nFILE /etc/app/db.pass "+k+" secret=age\n", "c1")
		if err == nil || !strings.Contains(err.Error(), "test.steps:2: FILE /etc/app/db.pass: secret "+k+" cannot be decrypted") {
			t.Fatalf("apply without a key: %v", err)
		}
		if got := snapshot(t, ss.root); got != want {
			t.Fatalf("the machine changed:\n%s\nwant:\n%s", got, want)
		}
	}
}

// A host that lost its key cannot take a secret step out either: the
// pre-image to put back is sealed. The apply is refused at the step and
// nothing changes.
func TestSecretRemovalWithoutKey(t *testing.T) {
	ss := newSecretSandbox(t)
	ss.write("/etc/app/db.pass", "as it was\n", 0o644)
	ss.apply(anchors+"DIR /etc/app\nFILE /etc/app/db.pass "+ss.secret("password\n")+" secret=age\n", "c1")
	want := snapshot(t, ss.root)
	ss.opts.Decrypt, ss.opts.Seal = nil, nil
	ss.open()
	_, err := ss.applyErr(anchors+"DIR /etc/app\n", "c2")
	if err == nil || !strings.Contains(err.Error(), "FILE /etc/app/db.pass: cannot restore /etc/app/db.pass: secret sha256:") {
		t.Fatalf("removal without a key: %v", err)
	}
	if got := snapshot(t, ss.root); got != want {
		t.Fatalf("the machine changed:\n%s\nwant:\n%s", got, want)
	}
}

// A secret made a plain file again shows no hash of the secret it
// replaces, and keeps it sealed for a rollback.
func TestSecretToPlainFile(t *testing.T) {
	ss := newSecretSandbox(t)
	ss.apply(anchors+"DIR /etc/app\nFILE /etc/app/db.pass "+ss.secret("password-one\n")+" secret=age\n", "c1")
	ss.apply(anchors+"DIR /etc/app\nFILE /etc/app/db.pass {not a secret any more\n}\n", "c2")
	ss.fs().WantFile("/etc/app/db.pass", "not a secret any more\n", 0o644, uint32(os.Getuid()), uint32(os.Getgid()))
	if tr := traces("password-one\n", ss.eventTexts()); len(tr) > 0 {
		t.Errorf("the secret is shown in %v", tr)
	}
	if tr := ss.stateTraces("password-one\n"); len(tr) > 0 {
		t.Errorf("the secret is in the state: %v", tr)
	}
}
