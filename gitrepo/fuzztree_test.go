package gitrepo

import (
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

type listedEntry struct {
	name string
	mode fs.FileMode
	id   [20]byte
}

// FuzzTreeParse parses arbitrary tree objects: what parses reads as
// go-git reads it (which also takes modes as git does, but for which
// bits make a file executable), and a tree listed straight from its
// object lists as its parsed and sorted entries do.
func FuzzTreeParse(f *testing.F) {
	id := strings.Repeat("\x01", 20)
	f.Add([]byte("100644 a\x00" + id + "40000 a.b\x00" + id))
	f.Add([]byte("40000 a\x00" + id + "100644 a.b\x00" + id))
	f.Add([]byte("100644 a.b\x00" + id + "40000 a\x00" + id))
	f.Add([]byte("160000 sub\x00" + id + "120000 l\x00" + id + "040000 z\x00" + id))
	f.Add([]byte(""))
	f.Add([]byte("0 0\x0000000000000000000000"))
	f.Add([]byte("40755 d\x00" + id + "120777 l\x00" + id + "100775 x\x00" + id))
	f.Fuzz(func(t *testing.T, data []byte) {
		es, err := parseTree(data)
		obj := &plumbing.MemoryObject{}
		obj.SetType(plumbing.TreeObject)
		obj.Write(data)
		var gt object.Tree
		gerr := gt.Decode(obj)
		if err == nil && gerr == nil {
			if len(es) != len(gt.Entries) {
				t.Fatalf("%d entries, go-git %d", len(es), len(gt.Entries))
			}
			for i := range es {
				a, b := es[i], gt.Entries[i]
				if isFile(a.Mode) && isFile(b.Mode) {
					a.Mode, b.Mode = 0, 0
				}
				if a != b {
					t.Fatalf("entry %d: %+v, go-git %+v", i, es[i], gt.Entries[i])
				}
			}
		}
		// go-git rejects an empty name, which ListGitTree skips as
		// it skips every name no path can make.
		if err == nil && gerr != nil && !strings.Contains(gerr.Error(), "empty filename") {
			t.Fatalf("parsed, go-git: %v", gerr)
		}
		var fast []listedEntry
		ok := listInOrder(data, func(i, n int, name string, mode fs.FileMode, id [20]byte) {
			fast = append(fast, listedEntry{name, mode, id})
		})
		if ok && err != nil {
			t.Fatalf("listed a tree that does not parse: %v", err)
		}
		if !ok || err != nil {
			return
		}
		es = slices.DeleteFunc(slices.Clone(es), func(e object.TreeEntry) bool { return !addressable(e.Name) })
		slices.SortFunc(es, func(a, b object.TreeEntry) int { return strings.Compare(a.Name, b.Name) })
		if len(es) != len(fast) {
			t.Fatalf("fast %d, slow %d", len(fast), len(es))
		}
		for i, e := range es {
			if (listedEntry{e.Name, entry{mode: e.Mode}.fsMode(), e.Hash}) != fast[i] {
				t.Fatalf("entry %d differs", i)
			}
		}
	})
}

func isFile(m filemode.FileMode) bool { return m == filemode.Regular || m == filemode.Executable }
