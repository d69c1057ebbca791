package state

import (
	"bytes"
	"fmt"
	"path/filepath"

	"golang.org/x/sys/unix"

	"trail/apply/kind"
	"trail/stepfmt"
)

// CheckBlobsOfLines is CheckBlobsOf of the applied record's lines as
// text (RecordLine): the blob keys are read from the images' text, not
// decoded (at 100,000 targets, decoding both images of each was half of
// a status's store check).
func (s *Store) CheckBlobsOfLines(each func(func(*RecordLine) error) error) ([]BlobProblem, error) {
	dfd, err := unix.Open(filepath.Join(s.Dir, "sha256"), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer unix.Close(dfd)
	var out []BlobProblem
	s.packs.mu.Lock()
	s.refreshPacks(true)
	s.packs.mu.Unlock()
	err = each(func(l *RecordLine) error {
		for _, need := range [...]struct {
			what string
			img  []byte
			k    stepfmt.Kind
		}{{"pre-image", l.Origin, ""}, {"content", l.Wrote, l.ID.Kind}} {
			eachBlobTextOf(need.img, need.k, func(k []byte) {
				if p := s.statBlobText(dfd, k); p != "" {
					out = append(out, BlobProblem{Step: l.ID.String(), Need: need.what, Blob: string(k), Problem: p})
				}
			})
		}
		return nil
	})
	return out, err
}

// eachBlobText calls fn with each key kind.Image.Blobs lists of the image
// whose text is img (one kind.CheckImageText accepts), in order.
func eachBlobText(img []byte, fn func(key []byte)) { eachBlobTextOf(img, "", fn) }

// eachBlobTextOf is eachBlobText of what trail wrote at a target of kind
// k (kind.Image.WroteBlobs); "" is eachBlobText.
func eachBlobTextOf(img []byte, k stepfmt.Kind, fn func(key []byte)) {
	if bytes.IndexByte(img, '"') >= 0 {
		m, err := kind.ParseImage(string(img))
		if err != nil {
			return
		}
		blobs := m.Blobs()
		if k != "" {
			blobs = m.WroteBlobs(k)
		}
		for _, key := range blobs {
			fn([]byte(key))
		}
		return
	}
	_, attrs, _ := bytes.Cut(img, []byte(" "))
	// Values are bare: " secret=" starts an attribute wherever it is.
	secret := bytes.HasPrefix(attrs, []byte("secret=")) || bytes.Contains(attrs, []byte(" secret="))
	sealed := bytes.Contains(attrs, []byte(kind.SealedKey("")+"="))
	for rest := attrs; len(rest) > 0; {
		var tok []byte
		tok, rest, _ = bytes.Cut(rest, []byte(" "))
		key, val, _ := bytes.Cut(tok, []byte("="))
		if secret && string(key) == "content" {
			continue // a secret's plaintext is never kept
		}
		if sealed && hasAttrText(attrs, kind.SealedKey(string(key))) {
			continue // kept sealed only (kind.SealedKey)
		}
		if bytes.HasPrefix(val, []byte("sha256:")) && (k == "" || !stepfmt.IsHidden(k, string(key))) {
			fn(val)
		}
	}
}

// hasAttrText reports whether attrs, the bare attributes of an image's
// text, set attribute name.
func hasAttrText(attrs []byte, name string) bool {
	return bytes.HasPrefix(attrs, []byte(name+"=")) || bytes.Contains(attrs, []byte(" "+name+"="))
}

// statBlobText is statBlob of a key as text: a packed blob is found
// without making a string of its key.
func (s *Store) statBlobText(dfd int, key []byte) string {
	var sum [32]byte
	if h, ok := bytes.CutPrefix(key, []byte("sha256:")); ok && lowerHex(sum[:], h) {
		if n, ok := s.packedSize(&sum); ok {
			if n == 0 && string(key) != emptyKey {
				return "empty"
			}
			return ""
		}
	}
	return s.statBlob(dfd, string(key))
}
