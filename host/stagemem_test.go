package host

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"trail/compile"
)

// heapFS reads the files of a commit's tree as it does, and before each
// read records the live heap after a collection: what staging holds of
// the contents it read before.
type heapFS struct {
	fs.FS
	peak *uint64
}

func (f heapFS) ReadFile(name string) ([]byte, error) {
	*f.peak = max(*f.peak, liveHeap())
	return fs.ReadFile(f.FS, name)
}

// Staging the contents a compile names in Refs (those the store lacks: all
// of them when the store failed as the compile handed them over and the
// commit was compiled again) holds a batch of them at a time, bounded in
// bytes as well as in contents: 64 files of 1 MiB are not held at once.
func TestStageBoundsBytes(t *testing.T) {
	const files, size = 64, 1 << 20
	dir := testCheckout(t, "tree \"www\" {\n  path = \"/srv/www\"\n  source = \"www\"\n}\n")
	os.MkdirAll(filepath.Join(dir, "www"), 0o755)
	for i := range files {
		data := strings.Repeat(fmt.Sprintf("file %02d\n", i), size/8)
		if err := os.WriteFile(filepath.Join(dir, "www", fmt.Sprintf("f%02d", i)), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gitIn(t, dir, "add", "-A")
	gitIn(t, dir, "commit", "-q", "-m", "big files")
	var out bytes.Buffer
	h, err := Open(dir, &out, &out)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	r, err := h.Repo()
	if err != nil {
		t.Fatal(err)
	}
	commit, err := r.Commit("HEAD")
	if err != nil {
		t.Fatal(err)
	}
	tree, err := r.Tree(commit.Hash)
	if err != nil {
		t.Fatal(err)
	}
	facts, err := h.Facts()
	if err != nil {
		t.Fatal(err)
	}
	res, diags := compile.Compile(tree, facts, compile.Options{Commit: commit.Hash, LazyTree: true})
	if diags.HasErrors() || res.Refs.Len() != files {
		t.Fatalf("compile: %v, %d contents named", diags, res.Refs.Len())
	}
	if _, err := h.Engine(); err != nil {
		t.Fatal(err)
	}
	base := liveHeap()
	var peak uint64
	if err := h.stage(&Compiled{Commit: commit, Result: res, tree: heapFS{tree, &peak}}); err != nil {
		t.Fatal(err)
	}
	held := peak - min(peak, base)
	t.Logf("held %d KiB at most", held>>10)
	if most := uint64(sinkBytes + 4*size); held > most {
		t.Fatalf("staging %d contents of %d KiB held %d KiB; want at most %d KiB", files, size>>10, held>>10, most>>10)
	}
}

// liveHeap is the live heap after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
