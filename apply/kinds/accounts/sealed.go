package accounts

import (
	"fmt"
	"io"
	"strings"

	"trail/apply/kind"
	"trail/stepfmt"
)

// A user's shadow field and a removed group's gshadow line are saved in
// the store for the reverse to put back. When a secret step names the
// file they come from (/etc/shadow, /etc/gshadow), that file is a secret,
// and its pieces are kept as the file itself is (paths.Capture): sealed,
// encrypted to the host's own key, so that no blob holds them in the
// clear. The image then names the sealed copy under KEY-sealed.

// sealedKey is the attribute naming the sealed copy of the part saved
// under key.
func sealedKey(key string) string { return kind.SealedKey(key) }

// isSealedKey reports whether key names a sealed part (not shown).
func isSealedKey(key string) bool {
	return key == sealedKey("password") || key == sealedKey(gshadowLineKey)
}

// savePart stores text, a part of account file f that a reverse puts
// back, and returns the attribute naming it: key=KEY of the text as it
// is, or, when a secret step names f, key-sealed=KEY of it sealed.
func savePart(x *kind.Exec, f, key, text string) (stepfmt.Attr, error) {
	if x.IsSecret(f) {
		k, err := x.Seal(strings.NewReader(text))
		if err != nil {
			return stepfmt.Attr{}, fmt.Errorf("saving a part of %s: %w", f, err)
		}
		return stepfmt.Attr{Key: sealedKey(key), Value: k}, nil
	}
	k, err := x.Stage(strings.NewReader(text))
	return stepfmt.Attr{Key: key, Value: k}, err
}

// savedPart returns the store key of the part img saved under key, and
// whether it is sealed; "" when img saved none.
func savedPart(img kind.Image, key string) (string, bool) {
	if k, ok := img.Get(sealedKey(key)); ok {
		return k, true
	}
	return img.Value(key), false
}

// loadPart reads the part img saved under key (savePart), decrypting a
// sealed one; a clear one may be a field Exec.Secret decrypted already.
func loadPart(x *kind.Exec, img kind.Image, key string) (string, error) {
	k, sealed := savedPart(img, key)
	if sealed {
		pk, err := x.Secret(k)
		if err != nil {
			return "", err
		}
		k = pk
	}
	r, err := x.OpenContent(k)
	if err != nil {
		return "", err
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	return string(data), err
}
