package fsx

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// CreatedStat gives, after Flush, what Lstat gives of each file Create
// made, whether a background writer or Create wrote it, with a plain
// mode, one the file was made without (0o640 is made 0o600 first) and a
// setuid one; the next Flush forgets them, of a batch that made no file
// in place too: a stat of a file replaced since must not be given.
func TestCreatedStatIsLstat(t *testing.T) {
	for _, bg := range []bool{false, true} {
		r, dir := newRoot(t)
		uid, gid := uint32(os.Geteuid()), uint32(os.Getegid())
		mustMkdir(t, filepath.Join(dir, "d"))
		r.Background(bg)
		var paths []string
		for i, mode := range []uint32{0o644, 0o640, 0o4750, 0o600} {
			p := fmt.Sprintf("/d/f%d", i)
			data := strings.Repeat("x", i*1000+1)
			if i == 3 {
				data = strings.Repeat("y", 3*chunkData) // in no chunk
			}
			if err := r.Create(p, strings.NewReader(data), mode, uid, gid); err != nil {
				t.Fatal(err)
			}
			paths = append(paths, p)
		}
		if err := r.Flush(); err != nil {
			t.Fatal(err)
		}
		for _, p := range paths {
			want, err := r.Lstat(p)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := r.CreatedStat(p)
			if !ok || got != want {
				t.Fatalf("background %v: CreatedStat(%s) = %+v, %v; Lstat %+v", bg, p, got, ok, want)
			}
		}
		if _, ok := r.CreatedStat("/d/none"); ok {
			t.Fatal("CreatedStat of a path Create did not make")
		}
		if err := r.Stage(paths[0], strings.NewReader("staged"), 0o644, uid, gid); err != nil {
			t.Fatal(err)
		}
		if err := r.Flush(); err != nil {
			t.Fatal(err)
		}
		if _, ok := r.CreatedStat(paths[0]); ok {
			t.Fatalf("background %v: CreatedStat of a file the batch before made, replaced since", bg)
		}
		r.Background(false)
	}
}
