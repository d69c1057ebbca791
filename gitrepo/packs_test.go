package gitrepo

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"

	"trail/gitrepo/gittest"
)

// history appends commits from..to to branch main of g, in one
// fast-import, as loose objects: commit i changes one more line of a big
// file (so that packs hold it as a chain of deltas), rewrites a deep file
// and adds f/i.
func history(g *gittest.Repo, from, to int) {
	var in bytes.Buffer
	for i := from; i <= to; i++ {
		fmt.Fprintf(&in, "commit refs/heads/main\ncommitter t <t@example.org> %d +0000\ndata 2\nc\n", 1700000000+i)
		if i == from && from > 1 {
			in.WriteString("from refs/heads/main^0\n")
		}
		for name, data := range map[string]string{"big": bigText(i), "deep/a/b/c/x": fmt.Sprintf("x %d\n", i), fmt.Sprintf("f/%d", i): fmt.Sprintf("file %d\n", i)} {
			fmt.Fprintf(&in, "M 100644 inline %s\ndata %d\n%s\n", name, len(data), data)
		}
	}
	g.GitIn(in.Bytes(), "-c", "fastimport.unpackLimit=1000000", "fast-import", "--quiet")
}

func bigText(i int) string {
	var b strings.Builder
	for l := 0; l < 300; l++ {
		if c := l/5 + 1; c <= i {
			fmt.Fprintf(&b, "line %d changed at commit %d\n", l, c)
		} else {
			fmt.Fprintf(&b, "line %d of the big file, long enough to be worth a delta\n", l)
		}
	}
	return b.String()
}

// checkHistory reads every commit of main through r and compares each
// tree, file for file, with what history wrote.
func checkHistory(t *testing.T, g *gittest.Repo, r *Repo, n int) {
	t.Helper()
	commits := strings.Fields(g.Git("rev-list", "--reverse", "main"))
	if len(commits) != n {
		t.Fatalf("main has %d commits, want %d", len(commits), n)
	}
	for c, rev := range commits {
		i := c + 1
		want := map[string]string{"big": bigText(i), "deep/a/b/c/x": fmt.Sprintf("x %d\n", i)}
		for k := 1; k <= i; k++ {
			want[fmt.Sprintf("f/%d", k)] = fmt.Sprintf("file %d\n", k)
		}
		fsys, err := r.Tree(rev)
		if err != nil {
			t.Fatalf("commit %d: %v", i, err)
		}
		got := map[string]string{}
		err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := fs.ReadFile(fsys, p)
			got[p] = string(data)
			return err
		})
		if err != nil {
			t.Fatalf("commit %d: %v", i, err)
		}
		if len(got) != len(want) {
			t.Fatalf("commit %d has %d files, want %d", i, len(got), len(want))
		}
		for p, w := range want {
			if got[p] != w {
				t.Fatalf("commit %d: %s reads %.40q, want %.40q", i, p, got[p], w)
			}
		}
	}
}

// packKinds counts the delta objects of each kind in the repository's packs.
func packKinds(t *testing.T, g *gittest.Repo) (ofs, ref int) {
	t.Helper()
	packs, _ := filepath.Glob(filepath.Join(g.Dir, ".git/objects/pack/*.pack"))
	for _, p := range packs {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		s := packfile.NewScanner(f)
		_, n, err := s.Header()
		for j := uint32(0); err == nil && j < n; j++ {
			var h *packfile.ObjectHeader
			if h, err = s.NextObjectHeader(); err == nil {
				switch h.Type {
				case plumbing.OFSDeltaObject:
					ofs++
				case plumbing.REFDeltaObject:
					ref++
				}
			}
		}
		f.Close()
		if err != nil {
			t.Fatalf("scan %s: %v", p, err)
		}
	}
	return ofs, ref
}

// maxChain is the longest delta chain git reports in the repository's packs.
func maxChain(t *testing.T, g *gittest.Repo) int {
	t.Helper()
	idxs, _ := filepath.Glob(filepath.Join(g.Dir, ".git/objects/pack/*.idx"))
	most := 0
	for _, idx := range idxs {
		for _, line := range strings.Split(g.Git("verify-pack", "-v", idx), "\n") {
			var n int
			if _, err := fmt.Sscanf(line, "chain length = %d:", &n); err == nil {
				most = max(most, n)
			}
		}
	}
	return most
}

func openRepo(t *testing.T, dir string) *Repo {
	t.Helper()
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// Every commit reads whole from packs of every shape git writes: deep
// chains of offset deltas and of reference deltas, an index whose offsets
// sit in its 64-bit table, several packs holding the same objects, and
// loose objects beside them.
func TestPackShapes(t *testing.T) {
	const n = 60
	t.Run("ofs-delta chains", func(t *testing.T) {
		g := gittest.New(t)
		history(g, 1, n)
		g.Git("repack", "-adfq", "--depth=50", "--window=50")
		if ofs, _ := packKinds(t, g); ofs < n/2 {
			t.Fatalf("the pack holds %d offset deltas", ofs)
		}
		if c := maxChain(t, g); c < 20 {
			t.Fatalf("the longest delta chain is %d", c)
		}
		checkHistory(t, g, openRepo(t, g.Dir), n)
	})
	t.Run("ref-delta chains", func(t *testing.T) {
		g := gittest.New(t)
		history(g, 1, n)
		g.Git("-c", "repack.useDeltaBaseOffset=false", "repack", "-adfq", "--depth=50", "--window=50")
		if ofs, ref := packKinds(t, g); ofs != 0 || ref < n/2 {
			t.Fatalf("the pack holds %d offset and %d reference deltas", ofs, ref)
		}
		if c := maxChain(t, g); c < 20 {
			t.Fatalf("the longest delta chain is %d", c)
		}
		checkHistory(t, g, openRepo(t, g.Dir), n)
	})
	t.Run("64-bit offsets", func(t *testing.T) {
		g := gittest.New(t)
		history(g, 1, n)
		g.Git("repack", "-adfq", "--depth=50")
		// Every offset past byte 20 of the pack goes to the large
		// offset table (git allows all but one object there).
		packs, _ := filepath.Glob(filepath.Join(g.Dir, ".git/objects/pack/*.pack"))
		if len(packs) != 1 {
			t.Fatalf("%d packs", len(packs))
		}
		if err := os.Remove(strings.TrimSuffix(packs[0], ".pack") + ".idx"); err != nil {
			t.Fatal(err)
		}
		g.Git("index-pack", "--index-version=2,20", packs[0])
		g.Git("fsck", "--no-progress")
		r := openRepo(t, g.Dir)
		if ps := r.packs(); len(ps) != 1 || len(ps[0].idx.Offset64) < 8*(3*n) {
			t.Fatalf("the index holds %d bytes of 64-bit offsets", len(ps[0].idx.Offset64))
		}
		checkHistory(t, g, r, n)
	})
	t.Run("several packs, duplicates and loose", func(t *testing.T) {
		g := gittest.New(t)
		history(g, 1, 20)
		g.Git("repack", "-dq")
		history(g, 21, 40)
		g.Git("repack", "-dq")
		// A third pack holds every object again.
		g.GitIn([]byte(g.Git("rev-list", "--objects", "main")), "pack-objects", "-q", ".git/objects/pack/pack")
		history(g, 41, n)
		r := openRepo(t, g.Dir)
		if ps := r.packs(); len(ps) != 3 {
			t.Fatalf("%d packs, want 3", len(ps))
		}
		checkHistory(t, g, r, n)
	})
}

// fetchKept fetches main from up into g's main, keeping the (thin) pack
// git receives as a pack, as a fetch of many objects does.
func fetchKept(g, up *gittest.Repo) {
	g.Git("-c", "fetch.unpackLimit=1", "fetch", "-q", "--update-head-ok", "file://"+up.Dir, "+main:main")
}

// A clone fetched in thin packs, their bases completed by index-pack,
// reads whole; so does a repository whose objects are its alternate's.
func TestPacksFetchedAndAlternates(t *testing.T) {
	const n = 40
	up := gittest.New(t)
	history(up, 1, n/2)
	up.Git("repack", "-adq")
	g := gittest.New(t)
	fetchKept(g, up)
	history(up, n/2+1, n)
	up.Git("repack", "-adq")
	fetchKept(g, up)
	if _, ref := packKinds(t, g); ref == 0 {
		t.Fatal("the fetched packs hold no reference deltas: the second fetch was not thin")
	}
	r := openRepo(t, g.Dir)
	if ps := r.packs(); len(ps) != 2 {
		t.Fatalf("%d packs, want 2", len(ps))
	}
	checkHistory(t, g, r, n)

	alt := gittest.New(t)
	gittest.WriteFiles(t, alt.Dir, map[string]string{".git/objects/info/alternates": filepath.Join(g.Dir, ".git/objects") + "\n"})
	alt.Git("update-ref", "refs/heads/main", g.Git("rev-parse", "main"))
	history(alt, n+1, n+5)
	checkHistory(t, alt, openRepo(t, alt.Dir), n+5)
}

// A Repo kept open reads commits whose objects came in packs fetched
// after it opened, one fetch after another, and after git repacked
// them all into one.
func TestPacksAddedAfterOpen(t *testing.T) {
	up := gittest.New(t)
	history(up, 1, 10)
	g := gittest.New(t)
	fetchKept(g, up)
	r := openRepo(t, g.Dir)
	checkHistory(t, g, r, 10)
	for _, to := range []int{20, 30, 40} {
		history(up, to-9, to)
		fetchKept(g, up)
		checkHistory(t, g, r, to)
	}
	history(up, 41, 50)
	fetchKept(g, up)
	g.Git("repack", "-adq")
	checkHistory(t, g, r, 50)
}

// A Repo kept open reads a commit whose pack it listed but had not
// opened when git repacked it away (git gc --auto after a fetch): neither
// its list nor go-git's storage's names the pack that holds it now.
func TestPacksRepackedAway(t *testing.T) {
	up := gittest.New(t)
	history(up, 1, 10)
	g := gittest.New(t)
	fetchKept(g, up)
	r := openRepo(t, g.Dir)
	checkHistory(t, g, r, 10)
	history(up, 11, 20)
	fetchKept(g, up)
	// Looking for an object no pack holds lists the new pack, opening none.
	if _, err := r.Resolve(strings.Repeat("ab", 20)); err == nil {
		t.Fatal("an object no pack holds resolves")
	}
	g.Git("repack", "-adq")
	checkHistory(t, g, r, 20)
}
