package kind

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"sync/atomic"

	"trail/internal/fsx"
)

// readerOnly hides *os.File's WriteTo, which would allocate its own buffer
// for a writer that is not a file.
type readerOnly struct{ io.Reader }

// HashedBytes counts the bytes HashFile and ReadFile have read, so that
// tests can bound what a drift check or a plan reads.
var HashedBytes atomic.Int64

// HashFile returns the content key of the regular file p, from the index
// when p's stat is unchanged since it was last hashed. The entry records
// the stat taken before reading, so a change during the read shows as a
// changed stat next time.
//
// In a drift check (x.wrote set), a file whose size is not the size of
// what trail wrote has drifted: it is not read, and its content is given
// as "size:N". A file of the right size is read up to one byte past that
// size, so a huge or growing file costs no more than the file trail wrote.
func (x *Exec) HashFile(p string, st fsx.Stat) (string, error) {
	if k, ok := x.index.Lookup(p, st); ok {
		return k, nil
	}
	limit := int64(-1)
	if x.wrote != "" {
		if n, ok := x.store.Size(x.wrote); ok {
			if n != st.Size {
				return sizeOnly(st.Size), nil
			}
			limit = n + 1
		}
	}
	f, err := x.Root.OpenReader(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if x.buf == nil {
		x.buf = make([]byte, 64<<10)
	}
	var r io.Reader = f
	if limit >= 0 {
		r = io.LimitReader(f, limit)
	}
	n, err := io.CopyBuffer(h, readerOnly{r}, x.buf)
	HashedBytes.Add(n)
	if err != nil {
		return "", fmt.Errorf("hash %s: %w", p, err)
	}
	if n == limit {
		return sizeOnly(n) + "+", nil // grew while read: drifted
	}
	key := "sha256:" + hex.EncodeToString(h.Sum(nil))
	x.index.Put(p, st, key)
	return key, nil
}

// ReadFile returns the whole content of the regular file p, whose stat
// is st, and its key, which it notes in the index as HashFile does: for
// a caller that needs the bytes as well as the key (an EDIT's file), one
// read where HashFile and a read of the bytes took two.
func (x *Exec) ReadFile(p string, st fsx.Stat) ([]byte, string, error) {
	f, err := x.Root.OpenReader(p)
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	data, err := io.ReadAll(readerOnly{f})
	HashedBytes.Add(int64(len(data)))
	if err != nil {
		return nil, "", fmt.Errorf("read %s: %w", p, err)
	}
	key := HashKey(data)
	x.index.Put(p, st, key)
	return data, key, nil
}

// sizeOnly stands for the content of a file that was not hashed because
// its size alone shows it is not what trail wrote.
func sizeOnly(n int64) string { return "size:" + strconv.FormatInt(n, 10) }
