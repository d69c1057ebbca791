package gitrepo

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"

	"trail/gitrepo/gittest"
)

// packObjects lists the objects of the repository's packs: hash, type and
// offset, from git verify-pack, with whether git stored each as a delta.
type packObject struct {
	hash  plumbing.Hash
	typ   string
	off   int64
	delta bool
}

func packObjects(t *testing.T, g *gittest.Repo) []packObject {
	t.Helper()
	idxs, _ := filepath.Glob(filepath.Join(g.Dir, ".git/objects/pack/*.idx"))
	var out []packObject
	for _, idx := range idxs {
		for _, line := range strings.Split(g.Git("verify-pack", "-v", idx), "\n") {
			f := strings.Fields(line)
			if len(f) < 5 || len(f[0]) != 40 {
				continue
			}
			off, err := strconv.ParseInt(f[4], 10, 64)
			if err != nil {
				t.Fatalf("verify-pack line %q", line)
			}
			out = append(out, packObject{hash: plumbing.NewHash(f[0]), typ: f[1], off: off, delta: len(f) == 7})
		}
	}
	return out
}

// Every object of packs of every shape reads as git reads it: whole ones
// straight from the pack (an empty blob, and one bigger than a reader's
// window that does not compress), offset and reference deltas through
// go-git.
func TestPackedReadsAsGit(t *testing.T) {
	big := make([]byte, 3*packWindowSize+123)
	if _, err := rand.Read(big); err != nil {
		t.Fatal(err)
	}
	for _, ofs := range []string{"true", "false"} {
		t.Run("useDeltaBaseOffset="+ofs, func(t *testing.T) {
			g := gittest.New(t)
			history(g, 1, 30)
			if err := os.WriteFile(filepath.Join(g.Dir, "random"), big, 0o644); err != nil {
				t.Fatal(err)
			}
			g.Write(map[string]string{"empty": ""})
			g.Commit("random and empty")
			g.Git("-c", "repack.useDeltaBaseOffset="+ofs, "repack", "-adfq", "--depth=50", "--window=50")
			r := openRepo(t, g.Dir)
			rd := r.reader()
			defer r.release(rd)
			whole, deltas := 0, 0
			for _, o := range packObjects(t, g) {
				want := g.GitIn(nil, "cat-file", o.typ, o.hash.String())
				data, ok, err := rd.packed(plumbing.AnyObject, o.hash)
				if ok != !o.delta || err != nil {
					t.Fatalf("%s %s (delta %v): read straight %v, %v", o.typ, o.hash, o.delta, ok, err)
				}
				if !ok {
					deltas++
					if data, err = rd.read(plumbing.AnyObject, o.hash); err != nil {
						t.Fatalf("%s %s: %v", o.typ, o.hash, err)
					}
				} else {
					whole++
				}
				if !bytes.Equal(data, want) {
					t.Fatalf("%s %s reads %d bytes %.40q, git %d bytes %.40q", o.typ, o.hash, len(data), data, len(want), want)
				}
				if n, err := rd.size(o.hash); err != nil || n != int64(len(want)) {
					t.Fatalf("%s %s: size %d, %v; want %d", o.typ, o.hash, n, err, len(want))
				}
			}
			if whole < 30 || deltas < 15 {
				t.Fatalf("%d objects read whole and %d deltas: the pack is not of the shape the test wants", whole, deltas)
			}
			// A type asked for that the object is not is not found.
			head := plumbing.NewHash(g.Git("rev-parse", "HEAD"))
			if _, ok, err := rd.packed(plumbing.BlobObject, head); !ok || !errors.Is(err, plumbing.ErrObjectNotFound) {
				t.Fatalf("a commit read as a blob: %v, %v", ok, err)
			}
		})
	}
}

// A tree whose objects are partly packed and partly loose reads whole,
// the loose ones through go-git.
func TestPackedAndLoose(t *testing.T) {
	g := gittest.New(t)
	g.Write(map[string]string{"a/1": "one\n", "a/2": "two\n", "b": "bee\n"})
	g.Commit("packed")
	g.Git("gc", "-q")
	g.Write(map[string]string{"a/2": "two, loose\n", "c/3": "three, loose\n"})
	rev := g.Commit("loose")
	r := openRepo(t, g.Dir)
	fsys, err := r.Tree(rev)
	if err != nil {
		t.Fatal(err)
	}
	rd := r.reader()
	_, packed, _ := rd.packed(plumbing.AnyObject, plumbing.NewHash(g.Git("rev-parse", rev+":c/3")))
	r.release(rd)
	if packed {
		t.Fatal("c/3 is in a pack; the test wants it loose")
	}
	for name, want := range map[string]string{"a/1": "one\n", "a/2": "two, loose\n", "b": "bee\n", "c/3": "three, loose\n"} {
		if data, err := fs.ReadFile(fsys, name); err != nil || string(data) != want {
			t.Errorf("%s reads %q, %v; want %q", name, data, err, want)
		}
	}
}

// damage writes b at offset off of the repository's only pack.
func damage(t *testing.T, g *gittest.Repo, off int64, b []byte) string {
	t.Helper()
	packs, _ := filepath.Glob(filepath.Join(g.Dir, ".git/objects/pack/*.pack"))
	if len(packs) != 1 {
		t.Fatalf("%d packs", len(packs))
	}
	if err := os.Chmod(packs[0], 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(packs[0], os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
	return filepath.Base(packs[0])
}

// A damaged pack entry is an error that names the pack, the entry's
// offset and what to do, never a panic nor a wrong content: a flipped
// byte in the compressed data, a header claiming a size the pack cannot
// hold, a zlib header that is not one.
func TestDamagedPack(t *testing.T) {
	cases := map[string]struct {
		at   func(o packObject) int64
		b    []byte
		want string
	}{
		// The entry: a one-byte header (a blob under 16 bytes), the
		// zlib header (2), then the compressed data.
		"flipped data": {func(o packObject) int64 { return o.off + 5 }, []byte{0xff, 0xff}, "damaged"},
		"huge size":    {func(o packObject) int64 { return o.off }, []byte{0x3f | 0x80, 0xff, 0xff, 0xff, 0x7f}, "claims"},
		"not zlib":     {func(o packObject) int64 { return o.off + 1 }, []byte{0x00, 0x00}, "not a zlib stream"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := gittest.New(t)
			g.Write(map[string]string{"site/x": "the content x\n", "site/y": "y\n"})
			rev := g.Commit("c")
			g.Git("gc", "-q")
			x := plumbing.NewHash(g.Git("rev-parse", rev+":site/x"))
			var obj packObject
			for _, o := range packObjects(t, g) {
				if o.hash == x {
					obj = o
				}
			}
			if obj.off == 0 || obj.delta {
				t.Fatalf("site/x is not whole in the pack: %+v", obj)
			}
			pack := damage(t, g, tc.at(obj), tc.b)
			r := openRepo(t, g.Dir)
			fsys, err := r.Tree(rev)
			if err != nil {
				t.Fatal(err)
			}
			data, err := fs.ReadFile(fsys, "site/x")
			if err == nil {
				t.Fatalf("a damaged entry reads %q", data)
			}
			for _, s := range []string{"site/x", pack, fmt.Sprintf("offset %d", obj.off), tc.want, "fetch or clone"} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			if data, err := fs.ReadFile(fsys, "site/y"); err != nil || string(data) != "y\n" {
				t.Errorf("the undamaged site/y reads %q, %v", data, err)
			}
		})
	}
}

// A tree object that is not one (its mode cut) is an error naming it.
func TestDamagedTree(t *testing.T) {
	g := gittest.New(t)
	g.Write(map[string]string{"ok": "fine\n"})
	g.Commit("c")
	// A mode alone, no name nor hash.
	badFile := filepath.Join(t.TempDir(), "bad")
	if err := os.WriteFile(badFile, []byte("100644"), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := g.Git("hash-object", "-w", "--literally", "-t", "tree", badFile)
	ok := g.Git("rev-parse", "HEAD:ok")
	root := strings.TrimSpace(string(g.GitIn([]byte(fmt.Sprintf("100644 blob %s\tok\n040000 tree %s\tsub\n", ok, bad)), "mktree", "--missing")))
	rev := g.Git("commit-tree", root, "-m", "bad")
	r := openRepo(t, g.Dir)
	fsys, err := r.Tree(rev)
	if err != nil {
		t.Fatal(err)
	}
	_, err = fs.ReadDir(fsys, "sub")
	if err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("reading the damaged tree: %v", err)
	}
	err = fsys.(*treeFS).ListGitTree(plumbing.NewHash(bad), func(int, int, string, fs.FileMode, [20]byte) {})
	if err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("listing the damaged tree: %v", err)
	}
}

// ListGitTree lists a tree as ReadGitTree does: in name order (git orders
// a directory as if its name ended in a slash), with the same modes and
// hashes, packed or loose, cached or not.
func TestListGitTree(t *testing.T) {
	g, first, _ := sample(t)
	g.Write(map[string]string{"files/a-b": "dash\n", "files/a0": "zero\n"})
	loose := g.Commit("more")
	for _, packed := range []bool{false, true} {
		if packed {
			g.Git("gc", "-q")
		}
		r := openRepo(t, g.Dir)
		for _, rev := range []string{first, loose} {
			fsys, err := r.Tree(rev)
			if err != nil {
				t.Fatal(err)
			}
			tfs := fsys.(*treeFS)
			err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
				if err != nil || !d.IsDir() {
					return err
				}
				info, err := fs.Stat(fsys, p)
				if err != nil {
					return err
				}
				id := info.(*fileInfo).GitHash()
				// Not cached: listed from the object; then from the
				// FS's cache, which ReadGitTree fills.
				tfs.DropCaches()
				got := listed(t, tfs, id)
				want, err := tfs.ReadGitTree(id)
				if err != nil {
					return err
				}
				var wants []string
				for _, d := range want {
					info, _ := d.Info()
					wants = append(wants, fmt.Sprintf("%s %v %x", d.Name(), info.Mode(), d.(*fileInfo).GitHash()))
				}
				if !slices.Equal(got, wants) {
					t.Errorf("%s at %s lists\n%q\nReadGitTree\n%q", p, rev, got, wants)
				}
				if again := listed(t, tfs, id); !slices.Equal(again, wants) {
					t.Errorf("%s at %s lists from the cache\n%q", p, rev, again)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
}

func listed(t *testing.T, tfs *treeFS, id [20]byte) []string {
	t.Helper()
	var got []string
	err := tfs.ListGitTree(id, func(i, n int, name string, mode fs.FileMode, h [20]byte) {
		if i != len(got) || n <= i {
			t.Errorf("entry %d of %d given as the %d-th", i, n, len(got))
		}
		got = append(got, fmt.Sprintf("%s %v %x", name, mode, h))
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// The index finds every object of a pack at its place, and no name it
// does not hold: neighbours of held names, names at the ends of a fanout
// block, names of blocks that are empty.
func TestPositionFindsEachName(t *testing.T) {
	g := gittest.New(t)
	var in bytes.Buffer
	in.WriteString("commit refs/heads/main\ncommitter t <t@example.org> 1700000000 +0000\ndata 2\nc\n")
	for i := range 3000 {
		data := fmt.Sprintf("%d\n", i)
		fmt.Fprintf(&in, "M 100644 inline d%d/f%d\ndata %d\n%s\n", i%10, i, len(data), data)
	}
	g.GitIn(in.Bytes(), "fast-import", "--quiet")
	g.Git("gc", "-q")
	r := openRepo(t, g.Dir)
	objs := packObjects(t, g)
	held := map[plumbing.Hash]bool{}
	for _, o := range objs {
		held[o.hash] = true
	}
	x := r.packs()[0].idx
	for _, o := range objs {
		off, err := x.FindOffset(o.hash)
		if err != nil || off != o.off {
			t.Fatalf("%s at %d, %v; want %d", o.hash, off, err, o.off)
		}
		for _, d := range []int{-1, 1} {
			h := o.hash
			for b := 19; b >= 0; b-- {
				h[b] += byte(d)
				if (d > 0 && h[b] != 0) || (d < 0 && h[b] != 0xff) {
					break
				}
			}
			if _, _, ok := x.position(h); ok != held[h] {
				t.Fatalf("%s, a neighbour of %s, found %v", h, o.hash, ok)
			}
		}
	}
	for _, h := range []plumbing.Hash{{}, {0xff, 0xff, 0xff}, {0: 0x80}, {0: 0xff, 19: 0xff}} {
		if _, _, ok := x.position(h); ok != held[h] {
			t.Fatalf("%s found %v", h, ok)
		}
	}
}

// A crafted tree's entries that no path can name (".", "..", "", a name
// with a slash or not UTF-8) are left out of its listing, as ReadDir
// leaves them out, and what is left is in name order.
func TestListGitTreeSkipsUnnamable(t *testing.T) {
	g := gittest.New(t)
	g.Write(map[string]string{"x": "x\n"})
	g.Commit("c")
	blob := plumbing.NewHash(g.Git("rev-parse", "HEAD:x"))
	var tree bytes.Buffer
	for _, name := range []string{"zz", ".", "..", "", "a/b", "bad\xff", "b", "a"} {
		tree.WriteString("100644 " + name + "\x00")
		tree.Write(blob[:])
	}
	f := filepath.Join(t.TempDir(), "tree")
	if err := os.WriteFile(f, tree.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	crafted := plumbing.NewHash(g.Git("hash-object", "-w", "--literally", "-t", "tree", f))
	r := openRepo(t, g.Dir)
	fsys, err := r.Tree("HEAD")
	if err != nil {
		t.Fatal(err)
	}
	tfs := fsys.(*treeFS)
	want := []string{}
	for _, n := range []string{"a", "b", "zz"} {
		want = append(want, fmt.Sprintf("%s %v %x", n, fs.FileMode(0o644), [20]byte(blob)))
	}
	if got := listed(t, tfs, crafted); !slices.Equal(got, want) {
		t.Errorf("the crafted tree lists\n%q\nwant\n%q", got, want)
	}
	des, err := tfs.ReadGitTree(crafted)
	if err != nil || len(des) != 3 {
		t.Errorf("ReadGitTree of the crafted tree: %d entries, %v", len(des), err)
	}
}
