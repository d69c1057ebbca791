// Package secret decrypts the secret files of a config repo: files
// encrypted with age (age-encryption.org) to a host's key, kept in the
// repository as ciphertext and decrypted only on the host, when a step
// that needs them is applied. It holds the one place trail reads a key.
package secret

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"filippo.io/age"
	"filippo.io/age/armor"
)

// DefaultKey is the host's age key, under the root.
const DefaultKey = "/etc/trail/age.key"

// maxSecret bounds a decrypted secret: it is held in memory whole.
const maxSecret = 64 << 20

// binaryHeader and armorHeader begin an age file, binary or armored.
const (
	binaryHeader = "age-encryption.org/v1\n"
	armorHeader  = armor.Header
)

// IsAgeFile reports whether data is an age file, binary or armored.
func IsAgeFile(data []byte) bool {
	return bytes.HasPrefix(data, []byte(binaryHeader)) ||
		bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte(armorHeader))
}

// KeyError is a host key that cannot be used: missing, unreadable,
// readable by others, or holding no identity.
type KeyError struct {
	Path string
	Msg  string
	Err  error
}

func (e *KeyError) Error() string {
	return fmt.Sprintf("age key %s: %s", e.Path, e.Msg)
}

func (e *KeyError) Unwrap() error { return e.Err }

// Decrypter decrypts age files with the identities of one key file, read
// when first needed (a host without secrets needs no key) and kept for
// the Decrypter's life.
type Decrypter struct {
	path string
	ids  []age.Identity
	err  error
	read bool
}

// NewDecrypter returns a Decrypter for the key file at path.
func NewDecrypter(path string) *Decrypter { return &Decrypter{path: path} }

// Refused returns a Decrypter that fails every call with err: a key
// setting that must not be used.
func Refused(path string, err error) *Decrypter {
	return &Decrypter{path: path, err: &KeyError{Path: path, Msg: err.Error(), Err: err}, read: true}
}

// Path is the key file.
func (d *Decrypter) Path() string { return d.path }

// Decrypt returns the plaintext of the age file data. Its errors say what
// to do and never hold any of the plaintext.
func (d *Decrypter) Decrypt(data []byte) ([]byte, error) {
	if err := d.load(); err != nil {
		return nil, err
	}
	var src io.Reader = bytes.NewReader(data)
	if !bytes.HasPrefix(data, []byte(binaryHeader)) {
		src = armor.NewReader(bytes.NewReader(bytes.TrimLeft(data, " \t\r\n")))
	}
	r, err := age.Decrypt(src, d.ids...)
	if err != nil {
		var nm *age.NoIdentityMatchError
		if errors.As(err, &nm) {
			return nil, fmt.Errorf("it is not encrypted to this host's key %s: encrypt it to the host's public key (age-keygen -y %s prints it)", d.path, d.path)
		}
		return nil, fmt.Errorf("it does not decrypt: %w", err)
	}
	out, err := io.ReadAll(io.LimitReader(r, maxSecret+1))
	if err != nil {
		return nil, fmt.Errorf("it does not decrypt: %w", err)
	}
	if len(out) > maxSecret {
		return nil, fmt.Errorf("it is larger than %d MiB: a secret is kept in memory whole", maxSecret>>20)
	}
	return out, nil
}

// Seal encrypts plain to the key's own recipients, so that only this
// host opens it again: how trail keeps the pre-image of a secret file.
func (d *Decrypter) Seal(plain []byte) ([]byte, error) {
	if err := d.load(); err != nil {
		return nil, err
	}
	var rs []age.Recipient
	for _, id := range d.ids {
		switch id := id.(type) {
		case *age.X25519Identity:
			rs = append(rs, id.Recipient())
		case *age.HybridIdentity:
			rs = append(rs, id.Recipient())
		}
	}
	if len(rs) == 0 {
		return nil, &KeyError{Path: d.path, Msg: "holds no X25519 or hybrid identity to encrypt to"}
	}
	var b bytes.Buffer
	w, err := age.Encrypt(&b, rs...)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(plain); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func (d *Decrypter) load() error {
	if !d.read {
		d.ids, d.err = loadKey(d.path)
		d.read = true
	}
	return d.err
}

// loadKey reads the identities of a key file, which only its owner may
// read, as ssh demands of a private key.
func loadKey(path string) ([]age.Identity, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &KeyError{Path: path, Err: err, Msg: "missing: this host cannot decrypt secrets; make its key with 'age-keygen -o " + path +
			"' (mode 0600) and encrypt the secrets to the public key it prints, or name another with 'git config trail.agekey FILE'"}
	}
	if err != nil {
		return nil, &KeyError{Path: path, Err: err, Msg: "unreadable: " + err.Error() + " (trail reads it as root)"}
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, &KeyError{Path: path, Err: err, Msg: err.Error()}
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, &KeyError{Path: path, Msg: fmt.Sprintf("mode %04o lets others read it: 'chmod 600 %s'", fi.Mode().Perm(), path)}
	}
	data, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return nil, &KeyError{Path: path, Err: err, Msg: err.Error()}
	}
	ids, err := age.ParseIdentities(bufio.NewReader(bytes.NewReader(data)))
	if err != nil {
		// The parser's message may quote a line of the file: say only where.
		return nil, &KeyError{Path: path, Msg: "holds no age identity (AGE-SECRET-KEY-1…, one a line, as age-keygen writes): " + firstWords(err.Error())}
	}
	return ids, nil
}

// firstWords keeps an error's text up to its first quote or colon after
// the first, so that no key material is repeated.
func firstWords(s string) string {
	if i := strings.IndexAny(s, "\"'"); i >= 0 {
		s = s[:i]
	}
	return strings.TrimRight(s, " :")
}
