package state

import (
	"math/bits"
	"path/filepath"
	"testing"

	"trail/internal/fsx"
)

// markPool are paths an index may hold, in an order that is not sorted
// and with what Quote quotes (a space, a quote, a newline, bytes not
// UTF-8) and what sorts between a directory and its files ("/a-b",
// "/a.b" before "/a/").
var markPool = []string{"/a/b", "/a", "/a b", "/a-b", "/a.b", "/a/b/c", "/a\"", "/\xff", "/a\n", "/Z", "/a/c", "/b", "/a/b c", "/a/\x01"}

// Marking the lines of an index not parsed, and keeping the marked, keeps
// the entries marking a parsed index keeps: for any entries, marks in any
// order (paths without entries too), and entries put between the marks.
func FuzzMarkText(f *testing.F) {
	for _, s := range [][]byte{{0xff, 0xff}, {0x0f, 0x00, 1, 2, 3, 4}, {0xff, 0x3f, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0},
		{0x55, 0x15, 0, 0x82, 1, 2}, {0xff, 0x3f, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}} {
		f.Add(s)
	}
	const zeros = "0000000000000000000000000000000000000000000000000000000000000000"
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < 2 {
			return
		}
		has := uint16(b[0]) | uint16(b[1])<<8
		file := filepath.Join(t.TempDir(), "index")
		ix := LoadIndex(file)
		for i, p := range markPool {
			if has&(1<<i) != 0 {
				ix.Put(p, fsx.Stat{Ino: uint64(i + 1), Size: 1, Mtime: 1, Ctime: 1}, "sha256:"+zeros)
			}
		}
		if err := ix.Save(); err != nil {
			t.Fatal(err)
		}
		text, whole := LoadIndex(file), LoadIndex(file)
		whole.parsed()
		if n := bits.OnesCount16(has & (1<<len(markPool) - 1)); len(whole.ents) != n {
			t.Fatalf("the index parsed holds %d entries, %d put: the test would not test it", len(whole.ents), n)
		}
		for _, c := range b[2:] {
			p := markPool[int(c&0x7f)%len(markPool)]
			if c&0x80 != 0 { // hashed again by the check, then marked
				st := fsx.Stat{Ino: 100, Size: 2, Mtime: 2, Ctime: 2}
				text.Put(p, st, "sha256:"+zeros)
				whole.Put(p, st, "sha256:"+zeros)
			}
			text.Mark(p)
			whole.Mark(p)
		}
		text.KeepMarked()
		whole.KeepMarked()
		for _, p := range markPool {
			te, tok := text.Entry(p)
			we, wok := whole.Entry(p)
			if tok != wok || te != we {
				t.Fatalf("%q after KeepMarked: marked as text %+v %v, parsed %+v %v", p, te, tok, we, wok)
			}
		}
		if text.Dirty != whole.Dirty && !text.Dirty {
			t.Fatalf("KeepMarked of the text is not dirty where the parsed index is")
		}
	})
}
