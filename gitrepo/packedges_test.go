package gitrepo

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"

	"trail/gitrepo/gittest"
)

// Every object of packs git writes in each of its ways reads as git
// cat-file reads it, blobs of sizes at and around a reader's window
// among them, stored (level 0) so that their entries end at and span
// window edges.
func TestPackedObjectsAtWindowEdges(t *testing.T) {
	for _, how := range [][]string{
		{"repack", "-adq"},
		{"repack", "-adfq", "--depth=5"},
		{"-c", "pack.compression=0", "repack", "-adfq"},
		{"gc", "-q", "--aggressive"},
	} {
		t.Run(fmt.Sprint(how), func(t *testing.T) {
			g := gittest.New(t)
			history(g, 1, 10)
			files := map[string]string{"empty": ""}
			for _, n := range []int{1, 15, 16, 127, 128, packWindowSize - 30, packWindowSize - 1, packWindowSize, packWindowSize + 1, 2*packWindowSize + 7} {
				b := make([]byte, n)
				if _, err := rand.Read(b); err != nil {
					t.Fatal(err)
				}
				files[fmt.Sprintf("r%d", n)] = string(b)
			}
			g.Write(files)
			g.Commit("sizes")
			g.Git(how...)
			r := openRepo(t, g.Dir)
			rd := r.reader()
			defer r.release(rd)
			for _, o := range packObjects(t, g) {
				want := g.GitIn(nil, "cat-file", o.typ, o.hash.String())
				data, err := rd.read(plumbing.AnyObject, o.hash)
				if err != nil || !bytes.Equal(data, want) {
					t.Fatalf("%s %s: %d bytes, %v; want %d", o.typ, o.hash, len(data), err, len(want))
				}
			}
		})
	}
}

// A bit flipped anywhere in a pack's entries never reads as other
// content: the entry's header, zlib stream and checksum catch it.
func TestPackFlippedBitReadsNoOtherContent(t *testing.T) {
	g := gittest.New(t)
	g.Write(map[string]string{"a": "hello world hello world\n", "b": "", "c": "xyz"})
	g.Commit("c")
	g.Git("repack", "-adq")
	objs := packObjects(t, g)
	want := map[plumbing.Hash][]byte{}
	for _, o := range objs {
		want[o.hash] = g.GitIn(nil, "cat-file", o.typ, o.hash.String())
	}
	packs, _ := filepath.Glob(filepath.Join(g.Dir, ".git/objects/pack/*.pack"))
	if len(packs) != 1 {
		t.Fatalf("%d packs", len(packs))
	}
	orig, err := os.ReadFile(packs[0])
	if err != nil {
		t.Fatal(err)
	}
	for off := 12; off < len(orig)-20; off++ {
		for _, bit := range []byte{1, 0x80} {
			d := bytes.Clone(orig)
			d[off] ^= bit
			if err := os.WriteFile(packs[0], d, 0o644); err != nil {
				t.Fatal(err)
			}
			r, err := Open(g.Dir)
			if err != nil {
				t.Fatal(err)
			}
			rd := r.reader()
			for h, w := range want {
				data, err := rd.read(plumbing.AnyObject, h)
				if err == nil && !bytes.Equal(data, w) {
					t.Errorf("byte %d bit %x: %s reads %q, want %q", off, bit, h, data, w)
				}
			}
			r.release(rd)
			r.Close()
		}
	}
}
