package compile

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"trail/gitrepo"
	"trail/gitrepo/gittest"
)

// bigRepo is a config of one tree block over FILES (default 100,000)
// files "file N\n" in directories of 100, as scripts/bench-paths.sh makes
// it, committed through git fast-import and packed, and a second commit
// that changed one file.
type bigRepo struct {
	g           *gittest.Repo
	files       int
	first, next string
}

var (
	bigOnce sync.Once
	bigData *bigRepo
)

func makeBigRepo(b *testing.B) *bigRepo {
	bigOnce.Do(func() {
		files := 100_000
		if s := os.Getenv("FILES"); s != "" {
			files, _ = strconv.Atoi(s)
		}
		bigData = newBigRepo(b, files)
	})
	if bigData == nil {
		b.Fatal("big repository setup failed")
	}
	return bigData
}

func newBigRepo(b testing.TB, files int) *bigRepo {
	{
		g := gittest.New(b)
		cmd := exec.Command("git", "fast-import", "--quiet")
		cmd.Dir, cmd.Env = g.Dir, g.Env()
		in, err := cmd.StdinPipe()
		if err != nil {
			b.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		w := bufio.NewWriterSize(in, 1<<16)
		inline := func(path, data string) {
			fmt.Fprintf(w, "M 100644 inline %s\ndata %d\n%s\n", path, len(data), data)
		}
		fmt.Fprintf(w, "commit refs/heads/main\ncommitter b <b@example.org> 1700000000 +0000\ndata 5\nfirst\n")
		inline("main.hcl", "tree \"site\" {\n  path = \"/srv/site\"\n  source = \"site\"\n}\n")
		for i := 0; i < files; i++ {
			inline(fmt.Sprintf("site/d%d/f%d", i/100, i), fmt.Sprintf("file %d\n", i))
		}
		fmt.Fprintf(w, "commit refs/heads/main\ncommitter b <b@example.org> 1700000001 +0000\ndata 4\nnext\n")
		inline("site/d0/f0", "file 0\nchanged\n")
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
		in.Close()
		if err := cmd.Wait(); err != nil {
			b.Fatal(err)
		}
		g.Git("gc", "-q")
		return &bigRepo{g: g, files: files, first: g.Git("rev-parse", "main~1"), next: g.Git("rev-parse", "main")}
	}
}

// liveSampler reads the live heap (as of the last collection) while a
// compile runs, with the collector running at every 5% of growth, and
// keeps the highest; with HEAPPROFILE set it writes the heap profile
// taken at that highest point there.
type liveSampler struct {
	stop    chan struct{}
	done    chan struct{}
	max     atomic.Uint64
	profile []byte
}

func sampleLive() *liveSampler {
	s := &liveSampler{stop: make(chan struct{}), done: make(chan struct{})}
	old := debug.SetGCPercent(5)
	go func() {
		defer close(s.done)
		defer debug.SetGCPercent(old)
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		var lastGC uint32
		for {
			select {
			case <-s.stop:
				return
			case <-time.After(time.Millisecond):
			}
			metrics.Read(sample)
			live := sample[0].Value.Uint64()
			if live > s.max.Load() {
				s.max.Store(live)
				var ms runtime.MemStats
				if os.Getenv("HEAPPROFILE") != "" {
					runtime.ReadMemStats(&ms)
					if ms.NumGC != lastGC {
						lastGC = ms.NumGC
						var buf bytesBuffer
						pprof.Lookup("heap").WriteTo(&buf, 0)
						s.profile = buf
					}
				}
			}
		}
	}()
	return s
}

type bytesBuffer []byte

func (b *bytesBuffer) Write(p []byte) (int, error) { *b = append(*b, p...); return len(p), nil }

func (s *liveSampler) end(name string) uint64 {
	close(s.stop)
	<-s.done
	if p := os.Getenv("HEAPPROFILE"); p != "" && s.profile != nil {
		os.WriteFile(p+"."+name, s.profile, 0o644)
	}
	return s.max.Load()
}

// liveNow is the live heap after a full collection.
func liveNow() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkCompileMemory compiles the big repository from git objects as
// an apply does (LazyTree, the trees it resolves and the contents it reads
// handed over, Options.Resolved and Read, no repository paths kept): "first" knows nothing, as a first apply;
// "pull" compiles the commit that changed one file from the trees the
// first resolved, as a pull does with the state's trees cache and the
// applied commit's tree (Options.Before; an index of blobs, were it made
// during the compile, would count; the trees do not). It
// reports, per file of the tree and above what was live before, the
// highest live heap the compile reached (sampled) and what is live once
// it returned (its result, the repository still open), and the CPU and
// wall seconds of a compile at the collector's usual pace.
func BenchmarkCompileMemory(b *testing.B) {
	br := makeBigRepo(b)
	for _, mode := range []string{"first", "pull"} {
		b.Run(mode, func(b *testing.B) {
			var peak, end uint64
			var cpu, wall time.Duration
			for i := 0; i < b.N; i++ {
				m := measureCompile(b, br, mode, true)
				peak, end = max(peak, m.peak), max(end, m.end)
				cpu, wall = cpu+m.cpu, wall+m.wall
			}
			b.ReportMetric(float64(peak)/float64(br.files), "live-B/file")
			b.ReportMetric(float64(end)/float64(br.files), "end-B/file")
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
			b.ReportMetric(wall.Seconds()/float64(b.N), "wall-s/op")
		})
	}
}

// A compile of 20,000 files holds, once it returned and with the
// repository still open, under 480 bytes a file for a first apply and
// under 600 for a pull of one changed file (1,462 and 746 before the
// compile walked a tree a window at a time, shared its strings, kept
// go-git's caches within bounds and read packs through shared indexes;
// the first apply's 598 before it handed the trees it resolved and the
// contents it read over rather than holding them in Trees and Refs).
func TestCompileHoldsLittlePerFile(t *testing.T) {
	br := newBigRepo(t, 20_000)
	for mode, most := range map[string]uint64{"first": 480, "pull": 600} {
		m := measureCompile(t, br, mode, false)
		t.Logf("%s: %d bytes a file", mode, m.end/uint64(br.files))
		if m.end/uint64(br.files) >= most {
			t.Errorf("%s: the compile holds %d bytes a file once returned; want under %d", mode, m.end/uint64(br.files), most)
		}
	}
}

type compileMemory struct {
	peak, end uint64
	cpu, wall time.Duration
}

// measureCompile compiles br as an apply does (see BenchmarkCompileMemory);
// sampled, it compiles twice: once for the times, once for the peak.
func measureCompile(tb testing.TB, br *bigRepo, mode string, sampled bool) compileMemory {
	var m compileMemory
	var trees map[string][]TreeEntry
	if mode == "pull" {
		trees = resolvedTrees(tb, br)
	}
	base := liveNow()
	repo, err := gitrepo.Open(br.g.Dir)
	if err != nil {
		tb.Fatal(err)
	}
	defer repo.Close()
	commit := br.first
	opts := Options{Commit: commit, LazyTree: true, NoRepoPaths: true}
	if mode == "pull" {
		commit = br.next
		opts = Options{Commit: commit, LazyTree: true, NoRepoPaths: true}
		var index map[[20]byte]*TreeEntry
		opts.Trees = func(h string) ([]TreeEntry, bool) { es, ok := trees[h]; return es, ok }
		opts.KnownBlob = func(h string) (string, bool) {
			if index == nil {
				index = blobIndex(trees)
			}
			var raw [20]byte
			hex.Decode(raw[:], []byte(h))
			e, ok := index[raw]
			if !ok {
				return "", false
			}
			return "sha256:" + hex.EncodeToString(e.Sum[:]), true
		}
		// As the host gives them: the trees of the applied commit, and
		// how many entries the trees hold.
		firstTree, err := repo.Tree(br.first)
		if err != nil {
			tb.Fatal(err)
		}
		opts.Before = treeBefore(firstTree)
		for _, es := range trees {
			opts.Files += len(es)
		}
	}
	// As an apply's: each resolved tree handed to the trees cache (which
	// writes it to its pending file) and each content read to the store
	// (which stages it), neither held.
	handed, read := 0, 0
	opts.Resolved = func(h string, es []TreeEntry) { handed += len(es) }
	opts.Read = func(key string, data []byte) { read++ }
	fsys, err := repo.Tree(commit)
	if err != nil {
		tb.Fatal(err)
	}
	var s *liveSampler
	if sampled {
		t0, w0 := cpuTime(), time.Now()
		if _, diags := Compile(fsys, testFacts(), opts); diags.HasErrors() {
			tb.Fatal(diags)
		}
		m.cpu, m.wall = cpuTime()-t0, time.Since(w0)
		if fsys, err = repo.Tree(commit); err != nil {
			tb.Fatal(err)
		}
		s = sampleLive()
	}
	res, diags := Compile(fsys, testFacts(), opts)
	if s != nil {
		top := s.end(mode)
		m.peak = top - min(top, base)
	}
	if diags.HasErrors() || len(res.List.Steps) != br.files+br.files/100+1 {
		tb.Fatalf("compile: %v, %d steps", diags, len(res.List.Steps))
	}
	if mode == "first" && (handed < br.files || read < br.files || len(res.Trees) != 0 || res.Refs.Len() != 0) {
		tb.Fatalf("compile: handed %d tree entries and %d contents (of %d files), held %d trees and %d refs; want all handed, none held",
			handed, read, br.files, len(res.Trees), res.Refs.Len())
	}
	after := liveNow()
	runtime.KeepAlive(res)
	runtime.KeepAlive(trees)
	runtime.KeepAlive(fsys)
	m.end = after - min(after, base)
	return m
}

// resolvedTrees is the trees a first compile of the big repository
// resolved, as the trees cache gives them to the next.
func resolvedTrees(b testing.TB, br *bigRepo) map[string][]TreeEntry {
	repo, err := gitrepo.Open(br.g.Dir)
	if err != nil {
		b.Fatal(err)
	}
	defer repo.Close()
	fsys, err := repo.Tree(br.first)
	if err != nil {
		b.Fatal(err)
	}
	res, diags := Compile(fsys, testFacts(), Options{Commit: br.first, LazyTree: true})
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	return res.Trees
}

func blobIndex(trees map[string][]TreeEntry) map[[20]byte]*TreeEntry {
	n := 0
	for _, es := range trees {
		n += len(es)
	}
	index := make(map[[20]byte]*TreeEntry, n)
	for _, es := range trees {
		for i := range es {
			if es[i].Known {
				index[es[i].Git] = &es[i]
			}
		}
	}
	return index
}

// cpuTime is the process's user and system time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
