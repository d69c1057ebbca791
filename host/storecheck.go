package host

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"trail/apply"
	"trail/apply/kind"
)

// listFrom is how many keys make reading their directories cheaper than a
// stat each: a store directory holds a few hundred blobs of a big tree.
const listFrom = 2048

// missing returns the keys the store lacks, in their order. Many keys are
// checked by reading the directories their blobs live in (Store.Path),
// once each, and the indexes of the packs (Store.EachPacked), instead of
// a stat a key: a blob is there when its name is in
// its directory, exactly when a stat of it would find it. The names are
// read raw (getdents) and looked up among the keys, instead of a string
// and a set entry made for every name the store holds: at 100,000 files
// 0.10 CPU s became 0.07, most of it now the kernel reading directories.
func missing(st *apply.Store, keys []string) []string {
	var out []string
	if len(keys) < listFrom {
		for _, k := range keys {
			if !st.Has(k) {
				out = append(out, k)
			}
		}
		return out
	}
	// want maps a blob's name (its hex digits) to its first key's index;
	// dirs holds one key of each directory to read.
	want := make(map[string]int, len(keys))
	var dirs [256]int
	for i := range dirs {
		dirs[i] = -1
	}
	for i, k := range keys {
		if kind.CheckKey(k) != nil {
			continue
		}
		name := k[len("sha256:"):]
		if _, ok := want[name]; !ok {
			want[name] = i
		}
		if d := hexByte(name); dirs[d] < 0 {
			dirs[d] = i
		}
	}
	found := make([]bool, len(keys))
	buf := make([]byte, 64<<10)
	for _, i := range dirs {
		if i >= 0 {
			markPresent(filepath.Dir(st.Path(keys[i])), buf, want, found)
		}
	}
	var h [2 * sha256.Size]byte
	st.EachPacked(func(sum *[sha256.Size]byte) {
		hex.Encode(h[:], sum[:])
		if j, ok := want[string(h[:])]; ok {
			found[j] = true
		}
	})
	for _, k := range keys {
		name, ok := strings.CutPrefix(k, "sha256:")
		if j, in := want[name]; !ok || !in || !found[j] {
			out = append(out, k)
		}
	}
	return out
}

// markPresent reads the directory's entries and sets found for each name
// want knows. An unreadable directory marks nothing: its keys are missing.
func markPresent(dir string, buf []byte, want map[string]int, found []bool) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	defer unix.Close(fd)
	for {
		n, err := unix.Getdents(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n <= 0 {
			return
		}
		// struct linux_dirent64: ino 8, off 8, reclen 2, type 1, name.
		for b := buf[:n]; len(b) >= 19; {
			reclen := int(binary.NativeEndian.Uint16(b[16:18]))
			if reclen < 19 || reclen > len(b) {
				return
			}
			name := b[19:reclen]
			if z := bytes.IndexByte(name, 0); z >= 0 {
				name = name[:z]
			}
			if j, ok := want[string(name)]; ok {
				found[j] = true
			}
			b = b[reclen:]
		}
	}
}

// hexByte is the value of the first two hex digits of a checked key's
// name: the directory (Store.Path) its blob lives in.
func hexByte(name string) byte {
	v := func(c byte) byte {
		if c >= 'a' {
			return c - 'a' + 10
		}
		return c - '0'
	}
	return v(name[0])<<4 | v(name[1])
}

// blobSink stores the tree contents a compile for an apply reads
// (compile.Options.Read) in batches as they are read, so that staging
// finds them stored instead of reading them from git objects again. Each
// batch is staged as it fills (memory stays a batch's); done makes all of
// them durable with one flush, as each flush syncs the whole file system.
// A failure stops it: staging then meets the failure itself and places it.
type blobSink struct {
	st    *apply.Store
	batch [][]byte
	keys  []string
	size  int
	err   error
}

// sinkBytes bounds the bytes a batch holds besides stageBatch's count.
const sinkBytes = 32 << 20

func (b *blobSink) read(key string, data []byte) {
	if b.err != nil {
		return
	}
	b.batch, b.keys, b.size = append(b.batch, data), append(b.keys, key), b.size+len(data)
	if len(b.batch) >= stageBatch || b.size >= sinkBytes {
		b.stage()
	}
}

// stage stages the batch; the keys it names are checked against what the
// store made of them. On a failure nothing staged is kept.
func (b *blobSink) stage() {
	if b.err != nil || len(b.batch) == 0 {
		return
	}
	got, err := b.st.StageMany(b.batch)
	if err == nil && !slices.Equal(got, b.keys) {
		b.st.Abort()
		err = fmt.Errorf("store: contents were stored under other keys")
	}
	b.err = err
	b.batch, b.keys, b.size = b.batch[:0], b.keys[:0], 0
}

// done stages the last batch and makes everything staged durable.
func (b *blobSink) done() {
	b.stage()
	if b.err != nil {
		return
	}
	b.err = b.st.Flush()
}
