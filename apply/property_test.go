package apply

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

var (
	propSeed  = flag.Uint64("prop.seed", 0, "run the path-independence property with only this seed")
	propRuns  = flag.Int("prop.runs", 12, "seeds the path-independence property tries")
	propSteps = flag.Int("prop.lists", 6, "step lists applied in sequence per seed")
)

// Path independence (DESIGN invariant 1): whatever sequence of lists a
// root went through, after applying the last one it equals a fresh apply
// of that list onto the same starting root, byte for byte, with modes and
// owners. Lists are random (seeded, reproducible with -prop.seed): DIR,
// FILE and LINK steps over a tree of up to 340 paths, with random modes,
// owners, contents and link targets, and some absent (recursive for a
// directory holding files), over a starting root that already holds
// files, symlinks and directories in some of those places.
func TestPathIndependence(t *testing.T) {
	seeds := make([]uint64, 0, *propRuns)
	if *propSeed != 0 {
		seeds = append(seeds, *propSeed)
	} else {
		for i := 1; i <= *propRuns; i++ {
			seeds = append(seeds, uint64(i))
		}
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) { pathIndependence(t, seed) })
	}
}

func pathIndependence(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0x7a11))
	g := newGen(rng)
	sb := newSandbox(t)
	sb.opts.AllowMassRemoval = true
	sb.open()
	g.seedRoot(sb)
	start := filepath.Join(t.TempDir(), "start")
	if out, err := exec.Command("cp", "-a", sb.root, start).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	var last string
	for i := 0; i < *propSteps; i++ {
		last = g.list()
		if _, err := sb.e.Apply(context.Background(), sb.list(last), Meta{Commit: fmt.Sprint("c", i)}); err != nil {
			t.Fatalf("seed %d, list %d: %v\n%s", seed, i, err, last)
		}
	}
	got := snapshot(t, sb.root)

	fresh := &sandbox{t: t, root: start, state: t.TempDir()}
	fresh.opts = Options{Root: start, StateDir: filepath.Join(fresh.state, "trail"), AllowMassRemoval: true}
	fresh.open()
	if _, err := fresh.e.Apply(context.Background(), fresh.list(last), Meta{Commit: "fresh"}); err != nil {
		t.Fatalf("seed %d, fresh apply: %v", seed, err)
	}
	if want := snapshot(t, start); got != want {
		t.Fatalf("seed %d: the root after %d lists differs from a fresh apply of the last:\n%s\nlast list:\n%s",
			seed, *propSteps, lineDiff(want, got), last)
	}
	// And going back to nothing restores the starting root itself.
	sb.apply("", "empty")
	fresh.apply("", "empty")
	if a, b := snapshot(t, sb.root), snapshot(t, start); a != b {
		t.Fatalf("seed %d: after removing everything the roots differ:\n%s", seed, lineDiff(b, a))
	}
}

// gen makes random roots and step lists.
type gen struct {
	rng      *rand.Rand
	paths    []string        // the universe, parents before children
	baseDirs map[string]bool // directories in the starting root
	nonEmpty map[string]bool // ... of which these hold unmanaged files
	seeded   []string        // every path the starting root holds, in order
}

func newGen(rng *rand.Rand) *gen {
	g := &gen{rng: rng, baseDirs: map[string]bool{"/p": true}, nonEmpty: map[string]bool{}}
	var walk func(dir string, depth int)
	walk = func(dir string, depth int) {
		if depth == 0 {
			return
		}
		for _, n := range []string{"a", "b", "c", "d"} {
			p := dir + "/" + n
			g.paths = append(g.paths, p)
			walk(p, depth-1)
		}
	}
	walk("/p", 4)
	sort.Strings(g.paths)
	return g
}

var propContents = []string{"", "one", "two\n", strings.Repeat("long ", 300)}

// emptyDir is always an empty directory in the starting root: trail gives
// it back whenever a FILE or LINK step managing it is removed, which the
// next kind must then replace.
const emptyDir = "/p/d"

// seedRoot puts files, symlinks and directories (some holding a file trail
// will never manage) in the first two levels of the tree, and emptyDir.
func (g *gen) seedRoot(sb *sandbox) {
	os.MkdirAll(sb.host("/p"), 0o755)
	for _, p := range g.paths {
		depth := strings.Count(p, "/") - 1
		parent := filepath.Dir(p)
		if p == emptyDir {
			os.Mkdir(sb.host(p), []os.FileMode{0o755, 0o700, 0o750}[g.rng.IntN(3)])
			g.seeded = append(g.seeded, p)
			g.baseDirs[p] = true
			continue
		}
		if depth > 2 || !g.baseDirs[parent] || parent == emptyDir || g.rng.IntN(3) != 0 {
			continue
		}
		owner := []int{0, 1000, 1001}[g.rng.IntN(3)]
		g.seeded = append(g.seeded, p)
		g.nonEmpty[parent] = true
		switch g.rng.IntN(4) {
		case 0:
			sb.write(p, propContents[g.rng.IntN(len(propContents))], []os.FileMode{0o644, 0o600, 0o755}[g.rng.IntN(3)])
			os.Chown(sb.host(p), owner, owner)
		case 1:
			os.Symlink([]string{"a", "/etc/passwd", "../x"}[g.rng.IntN(3)], sb.host(p))
			os.Lchown(sb.host(p), owner, owner)
		case 2, 3:
			os.Mkdir(sb.host(p), []os.FileMode{0o755, 0o700, 0o750}[g.rng.IntN(3)])
			os.Chmod(sb.host(p), []os.FileMode{0o755, 0o700, 0o750, 0o1777}[g.rng.IntN(4)])
			os.Chown(sb.host(p), owner, 0)
			g.baseDirs[p] = true
			if g.rng.IntN(2) == 0 {
				sb.write(p+"/zz-unmanaged", "keep me", 0o644)
				g.nonEmpty[p] = true
			}
		}
	}
}

// list makes a valid random step list: a random set of paths, closed so
// that every parent is a managed directory or a directory of the starting
// root; a path with managed children is a DIR, others any kind, except
// that a non-empty starting directory is only ever managed as a DIR.
func (g *gen) list() string {
	chosen := map[string]bool{}
	density := []int{2, 5, 20}[g.rng.IntN(3)]
	for _, p := range g.paths {
		if g.rng.IntN(density) == 0 {
			chosen[p] = true
		}
	}
	// What the starting root holds is chosen more often, and often as a
	// leaf, so that an empty directory from before trail is managed as a
	// file or a symlink, then as another kind, within a few lists.
	for _, p := range g.seeded {
		if g.rng.IntN(4) == 0 {
			continue
		}
		chosen[p] = true
		if g.nonEmpty[p] || g.rng.IntN(4) == 0 {
			continue
		}
		for c := range chosen {
			if strings.HasPrefix(c, p+"/") {
				delete(chosen, c)
			}
		}
	}
	for _, p := range g.paths {
		if !chosen[p] {
			continue
		}
		for a := filepath.Dir(p); a != "/p"; a = filepath.Dir(a) {
			if !g.baseDirs[a] {
				chosen[a] = true
			}
		}
	}
	dirs := map[string]bool{}
	for p := range chosen {
		for a := filepath.Dir(p); a != "/p"; a = filepath.Dir(a) {
			dirs[a] = true
		}
	}
	var b strings.Builder
	for _, p := range g.paths {
		if !chosen[p] {
			continue
		}
		if !dirs[p] && g.rng.IntN(6) == 0 {
			b.WriteString(g.absent(p))
			continue
		}
		kind := g.rng.IntN(3)
		if dirs[p] || g.nonEmpty[p] {
			kind = 0
		}
		switch kind {
		case 0:
			fmt.Fprintf(&b, "DIR %s%s\n", p, g.attrs(true))
		case 1:
			fmt.Fprintf(&b, "FILE %s {%s}%s\n", p, propContents[g.rng.IntN(len(propContents))], g.attrs(true))
		case 2:
			to := []string{"a", "../b", "/etc/hosts", `"with space"`}[g.rng.IntN(4)]
			fmt.Fprintf(&b, "LINK %s %s%s\n", p, to, g.attrs(false))
		}
	}
	return b.String()
}

// absent makes an absent step for p, which no chosen path is under: any
// path kind, recursive for a starting directory that holds files (and at
// random for other directories).
func (g *gen) absent(p string) string {
	k, rec := []string{"DIR", "FILE", "LINK"}[g.rng.IntN(3)], ""
	if g.nonEmpty[p] || k == "DIR" && g.rng.IntN(2) == 0 {
		k, rec = "DIR", " recursive=true"
	}
	return fmt.Sprintf("%s %s absent=true%s\n", k, p, rec)
}

func (g *gen) attrs(mode bool) string {
	var s string
	if mode && g.rng.IntN(2) == 0 {
		s += " mode=" + []string{"0644", "0600", "0755", "0700", "2755", "1777"}[g.rng.IntN(6)]
	}
	if g.rng.IntN(2) == 0 {
		s += " owner=" + []string{"root", "alice", "1234"}[g.rng.IntN(3)]
	}
	if g.rng.IntN(3) == 0 {
		s += " group=" + []string{"root", "staff", "4321"}[g.rng.IntN(3)]
	}
	if g.rng.IntN(4) == 0 {
		s += " drift=" + []string{"report", "heal", "ignore"}[g.rng.IntN(3)]
	}
	return s
}

// lineDiff shows the lines only in want (-) and only in got (+).
func lineDiff(want, got string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	w, g := in(want), in(got)
	var out []string
	for l := range w {
		if !g[l] {
			out = append(out, "- "+l)
		}
	}
	for l := range g {
		if !w[l] {
			out = append(out, "+ "+l)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][2:] < out[j][2:] })
	return strings.Join(out, "\n")
}
