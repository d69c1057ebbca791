package compile

import (
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"trail/gitrepo"
	"trail/gitrepo/gittest"
	"trail/stepfmt"
)

// fastBlocks are the blocks a random config of TestShortcutsEqualReference
// takes some of, in a random order: trees over one source, and blocks that
// give their steps edges to and from the trees' steps (a parent directory
// inside a tree, owners, a package that owns a tree path, units triggered
// by a tree or configured by a file in one, an apt source, depends_on),
// some of which collide with a tree's paths or come in an order that is no
// longer the declaration order.
var fastBlocks = []string{
	"tree \"a\" {\n  path = \"/srv/a\"\n  source = \"src\"\n  owner = \"web\"\n  group = \"web\"\n  exclude = [\"*.tmp\"]\n}\n",
	"tree \"b\" {\n  path = \"/srv/b\"\n  source = \"src/d1\"\n  mode = \"0600\"\n  dir_mode = \"0700\"\n  drift = \"heal\"\n}\n",
	"tree \"units\" {\n  path = \"/etc/systemd/system\"\n  source = \"src/d2\"\n}\n",
	"tree \"apt\" {\n  path = \"/etc/apt/sources.list.d\"\n  source = \"src/d3\"\n}\n",
	"user \"web\" {\n  group = \"web\"\n}\n",
	"group \"web\" {}\n",
	"directory \"/srv\" {}\n",
	"file \"/srv/a/d0/note\" {\n  content = \"note\\n\"\n}\n",
	"file \"/srv/a/d0/f4\" {\n  content = \"managed twice when the tree has it\\n\"\n}\n",
	"package \"nginx\" {\n  owns = [\"/srv/a/d1\"]\n}\n",
	"package \"old\" {\n  absent = true\n}\n",
	"unit \"site.service\" {\n  restart_on = [tree.a]\n}\n",
	"unit \"f2.service\" {\n  reload_on = [\"/srv/b/s1\"]\n}\n",
	"unit \"f6.service\" {\n  enabled = false\n  running = false\n}\n",
	"command \"build\" {\n  run = \"true\"\n  undo = \"true\"\n  depends_on = [tree.b]\n}\n",
	"file \"/srv/a/d3/gone\" {\n  absent = true\n}\n",
	"symlink \"/srv/link\" {\n  to = \"/srv/a\"\n}\n",
	"directory \"/srv/a/d1\" {\n  absent = true\n}\n",
}

// Each shortcut of the compile (the declaration order taken as the order
// where it is the sort's result) gives what the general path gives, byte
// for byte and diagnostic for diagnostic, over random commits that add,
// change, remove, rename and chmod a tree's files and change the config's
// blocks, their attributes and their order, compiled fresh and from the
// trees the commit before resolved and its own trees (Options.Before).
func TestShortcutsEqualReference(t *testing.T) {
	g := gittest.New(t)
	rnd := rand.New(rand.NewPCG(5, 6))
	files := map[string]string{}
	for i := 0; i < 60; i++ {
		files[fmt.Sprintf("src/d%d/s%d/f%d", i%4, i%2, i)] = fmt.Sprintf("v0 %d\n", i%10)
	}
	files["main.hcl"] = fastBlocks[0]
	g.Write(files)
	repo, err := gitrepo.Open(g.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	memo := map[string][]TreeEntry{}
	var prevTree fs.FS
	fast := 0
	for round := 0; round < 150; round++ {
		if round > 0 {
			for j := 0; j < 1+rnd.IntN(4); j++ {
				n := rnd.IntN(60)
				p := fmt.Sprintf("src/d%d/s%d/f%d", n%4, n%2, n)
				switch rnd.IntN(7) {
				case 0:
					g.Write(map[string]string{p: fmt.Sprintf("v%d %d\n", round, n)})
				case 1:
					g.Write(map[string]string{fmt.Sprintf("src/d%d/f%d", n%4, n): "added\n"})
				case 2:
					g.Remove(p)
				case 3:
					if data, err := os.ReadFile(filepath.Join(g.Dir, p)); err == nil {
						g.Remove(p)
						g.Write(map[string]string{fmt.Sprintf("src/d%d/s%d/r%d", (n+1)%4, n%2, n): string(data)})
					}
				case 4:
					os.Chmod(filepath.Join(g.Dir, p), []os.FileMode{0o755, 0o644}[rnd.IntN(2)])
				case 5, 6:
					g.Write(map[string]string{"main.hcl": randomConfig(rnd)})
				}
			}
		}
		commit := g.Commit(fmt.Sprintf("round %d", round))
		tree, err := repo.Tree(commit)
		if err != nil {
			t.Fatal(err)
		}
		opts := Options{Commit: commit, LazyTree: true}
		want, wantDiags := compile(tree, testFacts(), opts, true)
		for _, from := range []string{"fresh", "resolved"} {
			if from == "resolved" {
				opts.Trees = func(h string) ([]TreeEntry, bool) { es, ok := memo[h]; return es, ok }
				if prevTree != nil {
					opts.Before = treeBefore(prevTree)
				}
			}
			got, diags := compile(tree, testFacts(), opts, false)
			if a, b := strings.Join(Lines(diags), "\n"), strings.Join(Lines(wantDiags), "\n"); a != b {
				t.Fatalf("round %d, %s: diagnostics\n%s\nwant\n%s\nconfig:\n%s", round, from, a, b, readConfig(g))
			}
			if wantDiags.HasErrors() {
				continue
			}
			if a, b := stepfmt.Format(got.List), stepfmt.Format(want.List); string(a) != string(b) {
				t.Fatalf("round %d, %s: the list differs from the general path's:\n%s\nwant\n%s\nconfig:\n%s", round, from, a, b, readConfig(g))
			}
			if !slices.EqualFunc(got.Origins, want.Origins, func(a, b Origin) bool {
				return a.Resource == b.Resource && a.Range == b.Range && a.RepoPath == b.RepoPath
			}) {
				t.Fatalf("round %d, %s: origins differ from the general path's", round, from)
			}
			if !slices.Equal(slices.Collect(refPairs(got.Refs)), slices.Collect(refPairs(want.Refs))) {
				t.Fatalf("round %d, %s: the contents are to be read from other paths than the general path's", round, from)
			}
		}
		prevTree = tree
		if !wantDiags.HasErrors() && inOrderList(want) {
			fast++
		}
		for h, es := range want.Trees {
			memo[h] = es
		}
	}
	if fast < 20 {
		t.Errorf("only %d of 150 rounds kept each block's steps together: the declaration order is hardly tested", fast)
	}
}

func readConfig(g *gittest.Repo) string {
	data, _ := os.ReadFile(filepath.Join(g.Dir, "main.hcl"))
	return string(data)
}

// fastVariants are changes of a block's attributes, each made to a
// random config with odds of one in three.
var fastVariants = [][2]string{
	{`owner = "web"`, `owner = "root"`},
	{`mode = "0600"`, `mode = "0750"`},
	{`exclude = ["*.tmp"]`, `exclude = ["s1", "f1*"]`},
	{`drift = "heal"`, `drift = "report"`},
	{`content = "note\n"`, `content = "another note\n"`},
	{`restart_on = [tree.a]`, `restart_on = ["/srv/a/d2"]`},
	{`to = "/srv/a"`, `to = "/srv/b"`},
}

// randomConfig takes the first two of fastBlocks (the trees others name)
// and each other with even odds (those managing a tree's path, one in
// six), in a random order, and changes some of their attributes
// (fastVariants).
func randomConfig(rnd *rand.Rand) string {
	var b strings.Builder
	for _, i := range rnd.Perm(len(fastBlocks)) {
		block := fastBlocks[i]
		odds := 2
		if strings.Contains(block, "/srv/a/d1\"") || strings.Contains(block, "f4\"") {
			// Managed twice: an error whenever taken.
			odds = 6
		}
		if i < 2 || rnd.IntN(odds) == 0 {
			b.WriteString(block)
		}
	}
	cfg := b.String()
	for _, v := range fastVariants {
		if rnd.IntN(3) == 0 {
			cfg = strings.ReplaceAll(cfg, v[0], v[1])
		}
	}
	return cfg
}

// inOrderList reports whether the compiled order keeps each resource's
// steps together, as the declaration order does.
func inOrderList(r *Result) bool {
	seen := map[*Maker]bool{}
	var last *Maker
	for _, o := range r.Origins {
		if o.Maker != last {
			if seen[o.Maker] {
				return false
			}
			seen[o.Maker], last = true, o.Maker
		}
	}
	return true
}
