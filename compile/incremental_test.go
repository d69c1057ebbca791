package compile

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"io/fs"
	"iter"
	"math/rand/v2"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"trail/gitrepo"
	"trail/gitrepo/gittest"
	"trail/stepfmt"
)

// A compile that takes the keys of unchanged blobs from what earlier
// compiles learned equals a full compile, commit after commit of random
// edits, additions, removals and mode changes; and it reads only the blobs
// it did not know.
func TestKnownBlobsEqualFullCompile(t *testing.T) {
	g := gittest.New(t)
	rnd := rand.New(rand.NewPCG(1, 2))
	live := map[string]bool{}
	files := map[string]string{"main.hcl": "tree \"www\" {\n  path = \"/srv/www\"\n  source = \"www\"\n  exclude = [\"*.tmp\"]\n}\n"}
	for i := 0; i < 300; i++ {
		p := fmt.Sprintf("www/d%d/f%d", i%7, i)
		files[p], live[p] = fmt.Sprintf("v0 %d\n", i%50), true
	}
	g.Write(files)
	repo, err := gitrepo.Open(g.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	memo := map[string]string{}
	known := func(h string) (string, bool) { k, ok := memo[h]; return k, ok }
	for round := 0; round < 12; round++ {
		if round > 0 {
			edits := map[string]string{}
			for j := 0; j < 1+rnd.IntN(20); j++ {
				switch n := rnd.IntN(300); rnd.IntN(4) {
				case 0:
					p := fmt.Sprintf("www/d%d/f%d", n%7, n)
					edits[p], live[p] = fmt.Sprintf("v%d %d\n", round, n%30), true
				case 1:
					p := fmt.Sprintf("www/new%d/g%d", n%3, n)
					edits[p], live[p] = fmt.Sprintf("v0 %d\n", n%50), true
				case 2:
					edits[fmt.Sprintf("www/d%d/x%d.tmp", n%7, n)] = "excluded\n"
				case 3:
					p := fmt.Sprintf("www/d%d/f%d", n%7, n)
					if live[p] && edits[p] == "" {
						g.Remove(p)
						delete(live, p)
					}
				}
			}
			g.Write(edits)
		}
		commit := g.Commit(fmt.Sprintf("round %d", round))
		tree, err := repo.Tree(commit)
		if err != nil {
			t.Fatal(err)
		}
		full, diags := Compile(tree, testFacts(), Options{Commit: commit})
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		inc, diags := Compile(tree, testFacts(), Options{Commit: commit, LazyTree: true, KnownBlob: known})
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		if a, b := stepfmt.Format(full.List), stepfmt.Format(inc.List); !bytes.Equal(a, b) {
			t.Fatalf("round %d: the incremental list differs from the full one:\n%s\nvs\n%s", round, b, a)
		}
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range inc.Refs.Map() {
				if !yield(k) {
					return
				}
			}
		})
		if len(keys) != len(full.Blobs) {
			t.Fatalf("round %d: %d contents referenced, want %d", round, len(keys), len(full.Blobs))
		}
		for _, k := range keys {
			if got, err := inc.ReadBlob(tree, k); err != nil || !bytes.Equal(got, full.Blobs[k]) {
				t.Fatalf("round %d: content %s: %q, %v; want %q", round, k, got, err, full.Blobs[k])
			}
		}
		if round > 0 && inc.Learned >= len(live)/2 {
			t.Errorf("round %d: read %d blobs of %d files: the unchanged ones were read again", round, inc.Learned, len(live))
		}
		for _, es := range inc.Trees {
			for _, e := range es {
				if e.Known {
					memo[hex.EncodeToString(e.Git[:])] = "sha256:" + hex.EncodeToString(e.Sum[:])
				}
			}
		}
	}
}

// A compile that lists unchanged git trees from what earlier compiles
// resolved (Options.Trees) gives, byte for byte, a fresh compile's list and
// contents, over random commits of edits, additions, removals, mode
// changes, symlinks, identical subtrees and a changing config (two tree
// blocks over one source with different excludes, modes and owners), with
// facts and variables that change between compiles; and it reads from git
// objects only the trees that commit made.
func TestResolvedTreesEqualFreshCompile(t *testing.T) {
	g := gittest.New(t)
	rnd := rand.New(rand.NewPCG(3, 4))
	configs := []string{
		"variable \"owner\" {\n  default = \"root\"\n}\n" +
			"tree \"a\" {\n  path = \"/srv/${host.hostname}/a\"\n  source = \"src\"\n  owner = var.owner\n  exclude = [\"*.tmp\", \"d1/x*\"]\n}\n" +
			"tree \"b\" {\n  path = \"/srv/b\"\n  source = \"src/d0\"\n  mode = \"0600\"\n}\n",
		"variable \"owner\" {\n  default = \"root\"\n}\n" +
			"tree \"a\" {\n  path = \"/srv/${host.hostname}/a\"\n  source = \"src\"\n  owner = var.owner\n}\n" +
			"tree \"c\" {\n  path = \"/opt/c\"\n  source = \"src\"\n  exclude = [\"d2\", \"*.sh\"]\n  dir_mode = \"0750\"\n}\n",
		"variable \"owner\" {\n  default = \"root\"\n}\n" +
			"tree \"a\" {\n  path = \"/srv/a\"\n  source = \"src/d1\"\n  drift = \"heal\"\n}\n",
	}
	files := map[string]string{"main.hcl": configs[0]}
	for i := 0; i < 120; i++ {
		files[fmt.Sprintf("src/d%d/s%d/f%d", i%4, i%3, i)] = fmt.Sprintf("v0 %d\n", i%40)
	}
	g.Write(files)
	repo, err := gitrepo.Open(g.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	memo := map[string][]TreeEntry{}
	var prevTree fs.FS
	for round := 0; round < 25; round++ {
		if round > 0 {
			for j := 0; j < 1+rnd.IntN(6); j++ {
				n := rnd.IntN(120)
				p := fmt.Sprintf("src/d%d/s%d/f%d", n%4, n%3, n)
				switch rnd.IntN(8) {
				case 0:
					g.Write(map[string]string{p: fmt.Sprintf("v%d %d\n", round, n%20)})
				case 1:
					g.Write(map[string]string{fmt.Sprintf("src/d%d/x%d.tmp", n%4, n): "scratch\n"})
				case 2:
					g.Remove(p)
				case 3:
					mode := os.FileMode(0o755)
					if rnd.IntN(2) == 0 {
						mode = 0o644
					}
					os.Chmod(filepath.Join(g.Dir, p), mode)
				case 4:
					l := filepath.Join(g.Dir, fmt.Sprintf("src/d%d/l%d", n%4, n%5))
					os.Remove(l)
					os.Symlink(fmt.Sprintf("s%d/f%d", n%3, n), l)
				case 5:
					// An identical copy of another directory: one tree object twice.
					g.Remove("src/d3/copy")
					if out, err := exec.Command("cp", "-a", filepath.Join(g.Dir, "src/d0"), filepath.Join(g.Dir, "src/d3/copy")).CombinedOutput(); err != nil {
						t.Fatalf("cp: %v\n%s", err, out)
					}
				case 6:
					g.Write(map[string]string{"main.hcl": configs[rnd.IntN(len(configs))]})
				case 7:
					g.Write(map[string]string{fmt.Sprintf("src/d%d/run%d.sh", n%4, n%3): "#!/bin/sh\n"})
				}
			}
		}
		commit := g.Commit(fmt.Sprintf("round %d", round))
		tree, err := repo.Tree(commit)
		if err != nil {
			t.Fatal(err)
		}
		facts := testFacts()
		facts.Hostname = fmt.Sprintf("web%d", rnd.IntN(3))
		opts := Options{Commit: commit, LazyTree: true, Vars: map[string]string{"owner": []string{"root", "www-data", "nobody"}[rnd.IntN(3)]}}
		fresh, diags := Compile(tree, facts, opts)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		opts.Trees = func(h string) ([]TreeEntry, bool) { es, ok := memo[h]; return es, ok }
		if round%2 == 1 && prevTree != nil {
			// Every other round also with the trees of the commit before.
			opts.Before = treeBefore(prevTree)
		}
		inc, diags := Compile(tree, facts, opts)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		prevTree = tree
		if a, b := stepfmt.Format(fresh.List), stepfmt.Format(inc.List); !bytes.Equal(a, b) {
			t.Fatalf("round %d: the list from resolved trees differs from a fresh compile's:\n%s\nvs\n%s", round, b, a)
		}
		if !reflect.DeepEqual(fresh.Origins, inc.Origins) || !reflect.DeepEqual(fresh.Blobs, inc.Blobs) {
			t.Fatalf("round %d: origins or blobs differ from a fresh compile's", round)
		}
		if fresh.Refs.Len() != inc.Refs.Len() {
			t.Fatalf("round %d: %d contents to read, want %d", round, inc.Refs.Len(), fresh.Refs.Len())
		}
		if !slices.Equal(slices.Collect(refPairs(fresh.Refs)), slices.Collect(refPairs(inc.Refs))) {
			t.Fatalf("round %d: the contents are to be read from other paths than a fresh compile's", round)
		}
		for k := range fresh.Refs.Map() {
			got, err := inc.ReadBlob(tree, k)
			want, _ := fresh.ReadBlob(tree, k)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("round %d: content %s: %q, %v; want %q", round, k, got, err, want)
			}
		}
		made, madeFiles := 0, 0
		for h, es := range inc.Trees {
			if _, ok := memo[h]; !ok {
				made++
				for _, e := range es {
					if e.Type == EntryFile || e.Type == EntryExec {
						madeFiles++
					}
				}
			}
		}
		// Each tree the commit made is read once, and once more at most
		// for a second block that takes an entry the first excluded.
		if round > 0 && inc.Resolved > 2*made {
			t.Fatalf("round %d: %d trees read from git objects, but the commit made %d", round, inc.Resolved, made)
		}
		// A file is read once per step made of it (a tree listed twice,
		// as an identical copy, is read twice), and only in a tree the
		// commit made.
		madeSteps, dirs := 0, map[string]string{}
		for i, st := range inc.List.Steps {
			if st.Kind != stepfmt.KindFile {
				continue
			}
			d := path.Dir(inc.Origins[i].RepoPath)
			h, ok := dirs[d]
			if !ok {
				info, err := fs.Stat(tree, d)
				if err != nil {
					t.Fatal(err)
				}
				h, _ = info.Sys().(string)
				dirs[d] = h
			}
			if _, old := memo[h]; !old {
				madeSteps++
			}
		}
		if round > 0 && inc.Learned > madeSteps {
			t.Fatalf("round %d: %d blobs read, but the trees the commit made hold %d files, in %d steps", round, inc.Learned, madeFiles, madeSteps)
		}
		// Handed each tree as its walk is done (Options.Resolved), and
		// given back those it handed (as an apply's trees cache does), a
		// compile makes the same list, reads as much, and is handed, last
		// by hash, the trees the compile that held them returned.
		handed := map[string][]TreeEntry{}
		opts.Resolved = func(h string, es []TreeEntry) { handed[h] = slices.Clone(es) }
		opts.Trees = func(h string) ([]TreeEntry, bool) {
			if es, ok := handed[h]; ok {
				return es, true
			}
			es, ok := memo[h]
			return es, ok
		}
		out, diags := Compile(tree, facts, opts)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		if a, b := stepfmt.Format(inc.List), stepfmt.Format(out.List); !bytes.Equal(a, b) {
			t.Fatalf("round %d: the list of a compile that hands its trees over differs:\n%s\nvs\n%s", round, b, a)
		}
		if len(out.Trees) != 0 || !reflect.DeepEqual(handed, inc.Trees) || out.Resolved != inc.Resolved || out.Learned != inc.Learned {
			t.Fatalf("round %d: a compile handing its trees over held %d, was handed %d trees (%d read, %d blobs); want none held, and the %d trees (%d read, %d blobs) of one that holds them",
				round, len(out.Trees), len(handed), out.Resolved, out.Learned, len(inc.Trees), inc.Resolved, inc.Learned)
		}
		if fresh.Resolved < len(fresh.Trees) {
			t.Fatalf("round %d: a compile without resolved trees read %d trees of %d", round, fresh.Resolved, len(fresh.Trees))
		}
		for h, es := range inc.Trees {
			memo[h] = es
		}
	}
}

// treeBefore is Options.Before over the tree of the commit before.
func treeBefore(prev fs.FS) func(string) (string, bool) {
	return func(dir string) (string, bool) {
		info, err := fs.Stat(prev, dir)
		if err != nil || !info.IsDir() {
			return "", false
		}
		h, ok := info.Sys().(string)
		return h, ok && h != ""
	}
}

// A commit that changes one file of a directory reads that blob alone,
// with the directory's tree from the commit before (Options.Before), and
// asks KnownBlob for none: the directory's other files are known by name
// from the tree before. Without Before it asks for each of them.
func TestBeforeReadsTheChangedFileAlone(t *testing.T) {
	g := gittest.New(t)
	files := map[string]string{"main.hcl": "tree \"www\" {\n  path = \"/srv/www\"\n  source = \"www\"\n}\n"}
	for i := 0; i < 200; i++ {
		files[fmt.Sprintf("www/d%d/f%d", i%4, i)] = fmt.Sprintf("v0 %d\n", i)
	}
	g.Write(files)
	first := g.Commit("first")
	g.Write(map[string]string{"www/d1/f5": "changed\n"})
	next := g.Commit("next")
	repo, err := gitrepo.Open(g.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	prevTree, prev := compileAt(t, repo, first)
	tree, want := compileAt(t, repo, next)
	for _, withBefore := range []bool{true, false} {
		asked := 0
		opts := Options{Commit: next, LazyTree: true,
			Trees:     func(h string) ([]TreeEntry, bool) { es, ok := prev.Trees[h]; return es, ok },
			KnownBlob: func(string) (string, bool) { asked++; return "", false }}
		if withBefore {
			opts.Before = treeBefore(prevTree)
		}
		got, diags := Compile(tree, testFacts(), opts)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		if !bytes.Equal(stepfmt.Format(got.List), stepfmt.Format(want.List)) {
			t.Fatalf("before %v: the list differs from a fresh compile's", withBefore)
		}
		switch {
		case withBefore && (asked != 0 || got.Learned != 1):
			t.Errorf("with the tree before: asked KnownBlob %d times and read %d blobs; want 0 and 1", asked, got.Learned)
		case !withBefore && asked != 50:
			t.Errorf("without the tree before: asked KnownBlob %d times; want 50 (the changed directory's files)", asked)
		}
	}
}

// refPairs yields a Refs' entries as "key path", in order.
func refPairs(r *Refs) iter.Seq[string] {
	return func(yield func(string) bool) {
		for k, p := range r.All() {
			if !yield(k + " " + p) {
				return
			}
		}
	}
}

// compileAt compiles commit of repo as a fresh lazy compile and returns
// its tree with the result.
func compileAt(t *testing.T, repo *gitrepo.Repo, commit string) (fs.FS, *Result) {
	t.Helper()
	tree, err := repo.Tree(commit)
	if err != nil {
		t.Fatal(err)
	}
	res, diags := Compile(tree, testFacts(), Options{Commit: commit, LazyTree: true})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return tree, res
}
