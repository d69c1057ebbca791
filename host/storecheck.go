package host

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"trail/apply"
	"trail/apply/kind"
)

// listFrom is how many keys make reading their directories cheaper than a
// stat each: a store directory holds a few hundred blobs of a big tree.
const listFrom = 2048

// missing returns the keys the store lacks, in their order. Many keys are
// checked by reading the directories their blobs live in (Store.Path),
// once each, instead of a stat a key: a blob is there when its name is in
// its directory, exactly when a stat of it would find it.
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
	dirs := map[string]map[string]bool{}
	for _, k := range keys {
		if kind.CheckKey(k) != nil {
			out = append(out, k)
			continue
		}
		p := st.Path(k)
		d, name := filepath.Dir(p), filepath.Base(p)
		names, ok := dirs[d]
		if !ok {
			names = map[string]bool{}
			if f, err := os.Open(d); err == nil {
				list, _ := f.Readdirnames(-1)
				f.Close()
				for _, n := range list {
					names[n] = true
				}
			}
			dirs[d] = names
		}
		if !names[name] {
			out = append(out, k)
		}
	}
	return out
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
