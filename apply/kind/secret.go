package kind

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"trail/stepfmt"
)

// secrets holds what an operation decrypted: a secret FILE's content is in
// the store as its ciphertext, and its plaintext is kept here, in memory,
// for the operation only. What trail writes from it is never staged: the
// store holds a secret's plaintext only as the pre-image of a file trail
// changes or removes, and then sealed: encrypted to the host's own key
// (Seal), so that no blob of the store holds a secret in the clear.
type secrets struct {
	decrypt, seal func([]byte) ([]byte, error)
	key           map[string]string // ciphertext key -> plaintext key
	plain         map[string][]byte // plaintext key -> plaintext
	targets       map[string]bool   // paths a secret step of the plan names
}

// ErrNoDecrypt is the error of a secret met by an operation that was given
// no way to decrypt it.
var ErrNoDecrypt = errors.New("this trail was given no age key to decrypt it with")

// SetSecrets gives the operation the host's way to decrypt secret
// contents, and to encrypt to its own key the pre-images of the paths
// secret steps name (the engine calls it with apply.Options.Decrypt and
// Seal).
func (x *Exec) SetSecrets(decrypt, seal func([]byte) ([]byte, error)) {
	x.secrets.decrypt, x.secrets.seal = decrypt, seal
}

// MarkSecrets notes the paths the secret steps of lists name (the list
// being applied and the applied one): their pre-images are sealed. So are
// those of the EDIT steps whose origin, in the applied record (applied,
// which may be nil), is sealed: a secret step named the path when trail
// first edited it, and the edits' results hold what it replaced, which
// is kept out of the store in the clear as a secret is.
func (x *Exec) MarkSecrets(applied func(stepfmt.ID) *Record, lists ...*stepfmt.List) {
	x.secrets.targets = make(map[string]bool)
	for _, l := range lists {
		for _, s := range l.Steps {
			switch s.Kind {
			case stepfmt.KindFile:
				if s.Value("secret") != "" {
					x.secrets.targets[s.Target] = true
				}
			case stepfmt.KindEdit:
				if applied == nil {
					continue
				}
				if rec := applied(s.ID()); rec != nil && rec.Origin.Value("sealed") != "" {
					x.secrets.targets[s.Target] = true
				}
			}
		}
	}
}

// IsSecret reports whether a secret step of the plan names path p.
func (x *Exec) IsSecret(p string) bool { return x.secrets.targets[p] }

// SecretUnder reports whether a secret step of the plan names a path
// below directory dir: a pre-image of the whole directory holds it.
func (x *Exec) SecretUnder(dir string) bool {
	for p := range x.secrets.targets {
		if strings.HasPrefix(p, dir+"/") || dir == "/" {
			return true
		}
	}
	return false
}

// Seal encrypts what r holds to the host's own key and stages the
// ciphertext, returning its key: the pre-image of a secret path, which
// Secret decrypts again to put it back.
func (x *Exec) Seal(r io.Reader) (string, error) {
	if x.secrets.seal == nil {
		return "", fmt.Errorf("the content there is secret and cannot be saved sealed: %w", ErrNoDecrypt)
	}
	plain, err := io.ReadAll(r)
	if err != nil {
		return "", err
	}
	ct, err := x.secrets.seal(plain)
	if err != nil {
		return "", fmt.Errorf("the content there is secret and cannot be saved sealed: %w", err)
	}
	return x.store.Stage(bytes.NewReader(ct))
}

// Secret decrypts the secret content whose ciphertext is blob key and
// returns the key of its plaintext, which OpenContent then reads. Its
// error names the ciphertext, never the plaintext.
func (x *Exec) Secret(key string) (string, error) {
	if k, ok := x.secrets.key[key]; ok {
		return k, nil
	}
	if x.secrets.decrypt == nil {
		return "", fmt.Errorf("secret %s cannot be decrypted: %w", key, ErrNoDecrypt)
	}
	data, err := x.store.Get(key)
	if err != nil {
		return "", fmt.Errorf("secret %s is not in the store: the caller must put compiled contents there before planning", key)
	}
	plain, err := x.secrets.decrypt(data)
	if err != nil {
		return "", fmt.Errorf("secret %s cannot be decrypted: %w", key, err)
	}
	pk := HashKey(plain)
	if x.secrets.key == nil {
		x.secrets.key, x.secrets.plain = make(map[string]string), make(map[string][]byte)
	}
	x.secrets.key[key], x.secrets.plain[pk] = pk, plain
	return pk, nil
}

// SecretContent reports whether key is the plaintext of a secret this
// operation decrypted: what shows it, or anything derived from it, must
// not be shown.
func (x *Exec) SecretContent(key string) bool {
	_, ok := x.secrets.plain[key]
	return ok
}

// OpenContent opens the content with key: a secret's plaintext this
// operation decrypted, or a blob of the store.
func (x *Exec) OpenContent(key string) (io.ReadCloser, error) {
	if data, ok := x.secrets.plain[key]; ok {
		return io.NopCloser(bytes.NewReader(data)), nil
	}
	return x.store.Open(key)
}
