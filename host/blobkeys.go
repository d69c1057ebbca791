package host

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"

	"trail/compile"
	"trail/internal/atomicfile"
)

// blobKeysFile caches, in the state directory, the content key of each git
// blob of the last applied tree (compile.Options.KnownBlob), so the next
// apply reads and hashes only the blobs that changed. It is a cache: a
// missing, short or damaged file (its trailing checksum) is an empty one.
const blobKeysFile = "blobkeys"

var blobKeysMagic = []byte("trail blobkeys 1\n")

// blobKeys maps a git blob's object hash to the sha256 of its content:
// 52 bytes a file, not two hex strings.
type blobKeys map[[20]byte][32]byte

func (h *Host) blobKeysPath() string { return filepath.Join(h.Settings.state(), blobKeysFile) }

// loadBlobKeys reads the cache; any fault gives an empty one.
func (h *Host) loadBlobKeys() blobKeys {
	data, err := os.ReadFile(h.blobKeysPath())
	if err != nil || len(data) < len(blobKeysMagic)+sha256.Size || !bytes.HasPrefix(data, blobKeysMagic) {
		return blobKeys{}
	}
	body, sum := data[:len(data)-sha256.Size], data[len(data)-sha256.Size:]
	if s := sha256.Sum256(body); !bytes.Equal(s[:], sum) || (len(body)-len(blobKeysMagic))%52 != 0 {
		return blobKeys{}
	}
	recs := body[len(blobKeysMagic):]
	m := make(blobKeys, len(recs)/52)
	for i := 0; i < len(recs); i += 52 {
		m[[20]byte(recs[i:i+20])] = [32]byte(recs[i+20 : i+52])
	}
	return m
}

// known is compile.Options.KnownBlob over the cache.
func (m blobKeys) known(gitHash string) (string, bool) {
	var h [20]byte
	if len(gitHash) != 40 {
		return "", false
	}
	if _, err := hex.Decode(h[:], []byte(gitHash)); err != nil {
		return "", false
	}
	k, ok := m[h]
	if !ok {
		return "", false
	}
	return "sha256:" + hex.EncodeToString(k[:]), true
}

// saveBlobKeys keeps the keys res used and learned, when that changes the
// cache: the blobs of the tree just staged, and no others.
func (h *Host) saveBlobKeys(m blobKeys, res *compile.Result) {
	if len(res.Learned) == 0 && len(res.Used) == len(m) {
		return
	}
	var buf bytes.Buffer
	buf.Grow(len(blobKeysMagic) + 52*(len(res.Used)+len(res.Learned)) + sha256.Size)
	buf.Write(blobKeysMagic)
	put := func(git string, key [32]byte) {
		var h [20]byte
		if len(git) == 40 {
			if _, err := hex.Decode(h[:], []byte(git)); err == nil {
				buf.Write(h[:])
				buf.Write(key[:])
			}
		}
	}
	for _, g := range res.Used {
		var h [20]byte
		if _, err := hex.Decode(h[:], []byte(g)); err == nil {
			if k, ok := m[h]; ok {
				put(g, k)
			}
		}
	}
	for g, key := range res.Learned {
		var k [32]byte
		if n, err := hex.Decode(k[:], []byte(key[len("sha256:"):])); err == nil && n == 32 {
			put(g, k)
		}
	}
	sum := sha256.Sum256(buf.Bytes())
	buf.Write(sum[:])
	_ = atomicfile.WriteUnsynced(h.blobKeysPath(), buf.Bytes(), 0o600)
}
