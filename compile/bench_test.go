package compile

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"trail/gitrepo"
	"trail/gitrepo/gittest"
)

// benchRepo is a config repository with 200 blocks and a tree of 10,000
// files in 100 directories, committed and packed as a clone would be.
type benchRepo struct {
	g    *gittest.Repo
	hash string
}

var (
	benchOnce sync.Once
	benchData *benchRepo
)

func makeBenchRepo(b *testing.B) *benchRepo {
	benchOnce.Do(func() {
		g := gittest.New(b)
		var cfg strings.Builder
		cfg.WriteString("tree \"site\" {\n  path   = \"/srv/site\"\n  source = \"site\"\n  owner  = \"www-data\"\n  exclude = [\"*.tmp\"]\n}\n\n")
		blocks := 1
		for i := 0; blocks < 200; i++ {
			switch i % 4 {
			case 0:
				fmt.Fprintf(&cfg, "file \"/etc/app/conf.d/%03d.conf\" {\n  content = \"setting_%d = ${host.hostname}\\n\"\n  mode = \"0640\"\n}\n\n", i, i)
			case 1:
				fmt.Fprintf(&cfg, "package \"pkg%03d\" {}\n\n", i)
			case 2:
				fmt.Fprintf(&cfg, "directory \"/var/lib/app/d%03d\" {\n  owner = \"www-data\"\n}\n\n", i)
			case 3:
				fmt.Fprintf(&cfg, "user \"u%03d\" {\n  uid = %d\n  groups = [\"users\"]\n}\n\n", i, 10000+i)
			}
			blocks++
		}
		fmt.Fprintf(&cfg, "directory \"/etc/app\" {}\ndirectory \"/etc/app/conf.d\" {}\ndirectory \"/var/lib/app\" {}\n")
		if err := os.WriteFile(filepath.Join(g.Dir, "main.hcl"), []byte(cfg.String()), 0o644); err != nil {
			b.Fatal(err)
		}
		for d := 0; d < 100; d++ {
			dir := filepath.Join(g.Dir, "site", fmt.Sprintf("dir%03d", d))
			if err := os.MkdirAll(dir, 0o755); err != nil {
				b.Fatal(err)
			}
			for f := 0; f < 100; f++ {
				body := fmt.Sprintf("<p>page %d of section %d</p>\n%s", f, d, strings.Repeat("lorem ipsum dolor sit amet ", 8+f%8))
				if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("page%03d.html", f)), []byte(body), 0o644); err != nil {
					b.Fatal(err)
				}
			}
		}
		hash := g.Commit("bench")
		g.Git("gc", "-q")
		benchData = &benchRepo{g: g, hash: hash}
	})
	if benchData == nil {
		b.Fatal("bench repository setup failed")
	}
	return benchData
}

// BenchmarkCompileTree compiles the bench repository from git objects, and
// in the same run measures the baseline: git ls-tree -r plus git cat-file
// --batch of every blob of the same commit, which is the least any reader
// of that tree through git has to do. It reports the peak resident memory
// of the compile (VmHWM, reset before each run) and the compile/baseline
// ratio.
func BenchmarkCompileTree(b *testing.B) {
	br := makeBenchRepo(b)
	var compileNs, baseNs float64
	b.Run("git-cli-baseline", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			n, size := gitCLIRead(b, br)
			if n != 10001 || size == 0 {
				b.Fatalf("baseline read %d blobs, %d bytes", n, size)
			}
		}
		baseNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	b.Run("compile-git-objects", func(b *testing.B) {
		peak := 0.0
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			runtime.GC()
			resetPeakRSS()
			repo, err := gitrepo.Open(br.g.Dir)
			if err != nil {
				b.Fatal(err)
			}
			fsys, err := repo.Tree(br.hash)
			if err != nil {
				b.Fatal(err)
			}
			res, diags := Compile(fsys, testFacts(), Options{Commit: br.hash})
			if diags.HasErrors() || res.List == nil || len(res.List.Steps) < 10200 {
				b.Fatalf("compile: %v (%v)", diags, res.List)
			}
			repo.Close()
			peak = max(peak, peakRSSMB())
		}
		compileNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		b.ReportMetric(peak, "peak-rss-MB")
	})
	benchOneChanged(b, br)
	if baseNs > 0 && compileNs > 0 {
		b.Logf("compile %.1f ms, git CLI baseline %.1f ms, ratio %.2f", compileNs/1e6, baseNs/1e6, compileNs/baseNs)
	}
}

// gitCLIRead reads every blob of the commit with git ls-tree and git
// cat-file --batch, returning the count and total size.
func gitCLIRead(b *testing.B, br *benchRepo) (int, int64) {
	ls := br.g.GitIn(nil, "ls-tree", "-r", br.hash)
	var ids bytes.Buffer
	for _, line := range bytes.Split(ls, []byte("\n")) {
		f := bytes.Fields(line)
		if len(f) >= 3 && string(f[1]) == "blob" {
			ids.Write(f[2])
			ids.WriteByte('\n')
		}
	}
	cmd := exec.Command("git", "cat-file", "--batch")
	cmd.Dir, cmd.Env, cmd.Stdin = br.g.Dir, br.g.Env(), &ids
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	rd := bufio.NewReaderSize(out, 1<<16)
	n, total := 0, int64(0)
	for {
		hdr, err := rd.ReadString('\n')
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		f := strings.Fields(hdr)
		size, _ := strconv.ParseInt(f[len(f)-1], 10, 64)
		if _, err := io.CopyN(io.Discard, rd, size+1); err != nil {
			b.Fatal(err)
		}
		n++
		total += size
	}
	if err := cmd.Wait(); err != nil {
		b.Fatal(err)
	}
	return n, total
}

// resetPeakRSS resets the process's VmHWM (Linux: clear_refs 5).
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSSMB reads VmHWM, the peak resident set since the last reset.
func peakRSSMB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// BenchmarkFacts compares what every compile reads (GatherFacts) with
// the facts read on first use, on a root with a dpkg database of 1,000
// packages (about a server's; a desktop's is a few times that) and 300
// unit files: the reason packages and units are read only when a config
// uses them.
func BenchmarkFacts(b *testing.B) {
	var status strings.Builder
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&status, "Package: pkg%d\nStatus: install ok installed\nPriority: optional\nSection: misc\n"+
			"Installed-Size: 100\nMaintainer: Debian <debian@example.org>\nArchitecture: amd64\nVersion: 1.%d-1\n"+
			"Depends: libc6 (>= 2.36)\nDescription: package %d\n a longer description\n of the package\n .\n spanning lines\n\n", i, i, i)
	}
	files := map[string]string{"etc/hostname": "web1\n", "etc/debian_version": "12.5\n", "var/lib/dpkg/status": status.String()}
	for i := 0; i < 300; i++ {
		files[fmt.Sprintf("usr/lib/systemd/system/unit%d.service", i)] = ""
	}
	root := writeRoot(b, files)
	b.Run("gather", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := GatherFacts(root); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, name := range []string{"packages", "units"} {
		b.Run(name, func(b *testing.B) {
			f, _ := GatherFacts(root)
			for i := 0; i < b.N; i++ {
				g := f.clone()
				g.Load(name)
				if g.Unknown[name] != "" {
					b.Fatal(g.Unknown[name])
				}
			}
		})
	}
}

// benchOneChanged compiles a commit that changed one file of the bench
// repository's tree, lazily as an apply does: "fresh" knows nothing,
// "resolved" takes the unchanged git trees from the commit before's
// compile (Options.Trees, KnownBlob and Before, as the state's trees
// cache and the applied commit give them), so it reads two trees (site
// and site/dir000) and one blob. It runs inside BenchmarkCompileTree,
// whose temporary repository it uses.
func benchOneChanged(b *testing.B, br *benchRepo) {
	repo, err := gitrepo.Open(br.g.Dir)
	if err != nil {
		b.Fatal(err)
	}
	defer repo.Close()
	base, err := repo.Tree(br.hash)
	if err != nil {
		b.Fatal(err)
	}
	prev, diags := Compile(base, testFacts(), Options{Commit: br.hash, LazyTree: true})
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	blobs := map[string]string{}
	for _, es := range prev.Trees {
		for _, e := range es {
			if e.Known {
				blobs[hex.EncodeToString(e.Git[:])] = "sha256:" + hex.EncodeToString(e.Sum[:])
			}
		}
	}
	br.g.Write(map[string]string{"site/dir000/page000.html": "<p>changed</p>\n"})
	next := br.g.Commit("one changed")
	defer br.g.Git("reset", "-q", "--hard", br.hash)
	tree, err := repo.Tree(next)
	if err != nil {
		b.Fatal(err)
	}
	for _, mode := range []string{"fresh", "resolved"} {
		b.Run("one-changed-"+mode, func(b *testing.B) {
			opts := Options{Commit: next, LazyTree: true}
			if mode == "resolved" {
				opts.Trees = func(h string) ([]TreeEntry, bool) { es, ok := prev.Trees[h]; return es, ok }
				opts.KnownBlob = func(h string) (string, bool) { k, ok := blobs[h]; return k, ok }
				opts.Before, opts.Files = treeBefore(base), len(blobs)
			}
			for i := 0; i < b.N; i++ {
				res, diags := Compile(tree, testFacts(), opts)
				if diags.HasErrors() {
					b.Fatal(diags)
				}
				if mode == "resolved" && (res.Learned != 1 || res.Resolved != 2) {
					b.Fatalf("read %d blobs and %d trees; want 1 and 2 (site, site/dir000)", res.Learned, res.Resolved)
				}
			}
		})
	}
}
