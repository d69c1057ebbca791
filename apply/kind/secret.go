package kind

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// secrets holds what an operation decrypted: a secret FILE's content is in
// the store as its ciphertext, and its plaintext is kept here, in memory,
// for the operation only. What trail writes from it is never staged: the
// store holds a secret's plaintext only as the pre-image of a file trail
// changes or removes, a blob like any other (mode 0600 in the 0700 state
// directory).
type secrets struct {
	decrypt func([]byte) ([]byte, error)
	key     map[string]string // ciphertext key -> plaintext key
	plain   map[string][]byte // plaintext key -> plaintext
}

// ErrNoDecrypt is the error of a secret met by an operation that was given
// no way to decrypt it.
var ErrNoDecrypt = errors.New("this trail was given no age key to decrypt it with")

// SetDecrypt gives the operation the host's way to decrypt secret contents
// (the engine calls it with apply.Options.Decrypt).
func (x *Exec) SetDecrypt(decrypt func([]byte) ([]byte, error)) { x.secrets.decrypt = decrypt }

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

// OpenContent opens the content with key: a secret's plaintext this
// operation decrypted, or a blob of the store.
func (x *Exec) OpenContent(key string) (io.ReadCloser, error) {
	if data, ok := x.secrets.plain[key]; ok {
		return io.NopCloser(bytes.NewReader(data)), nil
	}
	return x.store.Open(key)
}
