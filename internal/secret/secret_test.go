package secret

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"filippo.io/age/armor"
)

func keyFile(t *testing.T, mode os.FileMode) (string, *age.X25519Identity) {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "age.key")
	if err := os.WriteFile(p, []byte("# a comment\n"+id.String()+"\n"), mode); err != nil {
		t.Fatal(err)
	}
	return p, id
}

func encrypt(t *testing.T, r age.Recipient, plain string, armored bool) []byte {
	t.Helper()
	var b bytes.Buffer
	var aw interface{ Close() error }
	dst := any(&b)
	if armored {
		a := armor.NewWriter(&b)
		aw, dst = a, a
	}
	w, err := age.Encrypt(dst.(interface{ Write([]byte) (int, error) }), r)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(plain))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if aw != nil {
		aw.Close()
	}
	return b.Bytes()
}

// Binary and armored files decrypt; Seal's output opens again; both are
// age files.
func TestDecryptAndSeal(t *testing.T) {
	p, id := keyFile(t, 0o600)
	d := NewDecrypter(p)
	for _, armored := range []bool{false, true} {
		ct := encrypt(t, id.Recipient(), "hunter2\n", armored)
		if !IsAgeFile(ct) {
			t.Fatalf("armored=%v: not an age file", armored)
		}
		got, err := d.Decrypt(ct)
		if err != nil || string(got) != "hunter2\n" {
			t.Fatalf("armored=%v: %q %v", armored, got, err)
		}
	}
	sealed, err := d.Seal([]byte("pre-image"))
	if err != nil || !IsAgeFile(sealed) || bytes.Contains(sealed, []byte("pre-image")) {
		t.Fatalf("seal: %v", err)
	}
	if got, err := d.Decrypt(sealed); err != nil || string(got) != "pre-image" {
		t.Fatalf("sealed opens as %q %v", got, err)
	}
	if IsAgeFile([]byte("hunter2\n")) {
		t.Fatal("plain text taken for an age file")
	}
}

// A missing key, one others may read and one for another host each say
// what is wrong and what to do, and never repeat the key.
func TestKeyErrors(t *testing.T) {
	p, _ := keyFile(t, 0o600)
	other, _ := age.GenerateX25519Identity()
	ct := encrypt(t, other.Recipient(), "x", false)

	if _, err := NewDecrypter(p).Decrypt(ct); err == nil || !strings.Contains(err.Error(), "not encrypted to this host's key "+p+": encrypt it to the host's public key (age-keygen -y "+p) {
		t.Errorf("another host's secret: %v", err)
	}
	missing := filepath.Join(t.TempDir(), "none")
	var ke *KeyError
	if _, err := NewDecrypter(missing).Decrypt(ct); !errors.As(err, &ke) || !errors.Is(err, fs.ErrNotExist) ||
		!strings.Contains(err.Error(), "missing: this host cannot decrypt secrets; make its key with 'age-keygen -o "+missing) {
		t.Errorf("missing key: %v", err)
	}
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := NewDecrypter(p).Decrypt(ct); err == nil || !strings.Contains(err.Error(), "mode 0644 lets others read it: 'chmod 600 "+p+"'") {
		t.Errorf("world-readable key: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad")
	os.WriteFile(bad, []byte("AGE-SECRET-KEY-1NOTAKEY\n"), 0o600)
	if _, err := NewDecrypter(bad).Decrypt(ct); err == nil || strings.Contains(err.Error(), "NOTAKEY") || !strings.Contains(err.Error(), "holds no age identity") {
		t.Errorf("a damaged key: %v", err)
	}
}
