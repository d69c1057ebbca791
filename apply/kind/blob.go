package kind

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// An attribute of an Image whose value is a blob key names content in the
// store: "sha256:" and the hex digest of the content.

// HashKey returns the store key of data.
func HashKey(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// CheckKey reports why key is not "sha256:" and 64 lower-case hex digits.
func CheckKey(key string) error {
	h, ok := strings.CutPrefix(key, "sha256:")
	if !ok || len(h) != 64 || strings.Trim(h, "0123456789abcdef") != "" {
		return fmt.Errorf("store: %q is not a blob key (sha256: and 64 lower-case hex digits)", key)
	}
	return nil
}
