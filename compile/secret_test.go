package compile

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"testing/fstest"

	"filippo.io/age"
	agearmor "filippo.io/age/armor"
)

// encryptTo encrypts plain to id's recipient, armored when asked.
func encryptTo(t *testing.T, id *age.X25519Identity, plain string, armored bool) []byte {
	t.Helper()
	var b bytes.Buffer
	var dst interface {
		Write([]byte) (int, error)
		Close() error
	} = nopCloser{&b}
	if armored {
		dst = agearmor.NewWriter(&b)
	}
	w, err := age.Encrypt(dst, id.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte(plain)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

type nopCloser struct{ *bytes.Buffer }

func (nopCloser) Close() error { return nil }

// A file's secret compiles to the ciphertext's hash with secret=age and
// mode 0600: neither the plaintext nor its hash is in the list.
func TestSecretFile(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	const plain = "hunter2\n"
	bin, arm := encryptTo(t, id, plain, false), encryptTo(t, id, plain, true)
	fsys := fstest.MapFS{
		"main.hcl": {Data: []byte(`
file "/etc/db.pass" { secret = "secrets/db.pass.age" }
file "/etc/api.key" {
  secret = "secrets/api.key.age"
  mode   = "0640"
  group  = "adm"
}
`)},
		"secrets/db.pass.age": {Data: bin},
		"secrets/api.key.age": {Data: arm},
	}
	res, diags := Compile(fsys, testFacts(), Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	sum := sha256.Sum256([]byte(plain))
	var list bytes.Buffer
	for _, s := range res.List.Steps {
		list.WriteString(s.String() + "\n")
	}
	if strings.Contains(list.String(), hex.EncodeToString(sum[:])) || strings.Contains(list.String(), "hunter2") {
		t.Fatalf("the list holds the plaintext or its hash:\n%s", list.String())
	}
	want := map[string][]byte{"/etc/db.pass": bin, "/etc/api.key": arm}
	for _, s := range res.List.Steps {
		c := sha256.Sum256(want[s.Target])
		if s.Value("content") != "sha256:"+hex.EncodeToString(c[:]) || s.Value("secret") != "age" {
			t.Errorf("%s: want the ciphertext's hash and secret=age", s)
		}
		if !bytes.Equal(res.Blobs[s.Value("content")], want[s.Target]) {
			t.Errorf("%s: the compile's blob is not the ciphertext", s.Target)
		}
	}
	if m := res.List.Steps[0].Value("mode"); m != "0600" {
		t.Errorf("a secret's default mode is %s, want 0600", m)
	}
	if m := res.List.Steps[1].Value("mode"); m != "0640" {
		t.Errorf("a secret's given mode became %s", m)
	}
}

// A secret that is not an age file is an error at its attribute, which
// says how to encrypt it; secret with source is one content too many.
func TestSecretNotAge(t *testing.T) {
	fsys := fstest.MapFS{
		"main.hcl": {Data: []byte(`file "/etc/db.pass" { secret = "secrets/db.pass" }
file "/etc/b" {
  secret = "secrets/db.pass"
  source = "secrets/db.pass"
}
`)},
		"secrets/db.pass": {Data: []byte("hunter2\n")},
	}
	_, diags := Compile(fsys, testFacts(), Options{})
	got := Lines(diags)
	if len(got) != 2 || !strings.Contains(got[0], "main.hcl:1:32: Invalid secret: secrets/db.pass is not an age-encrypted file") ||
		!strings.Contains(got[1], "main.hcl:2:1: File content: A file takes one of content, source, template and secret; this one has source and secret") {
		t.Fatalf("diagnostics:\n%s", strings.Join(got, "\n"))
	}
}
