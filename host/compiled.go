package host

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"trail/apply"
	"trail/compile"
	"trail/internal/atomicfile"
	"trail/stepfmt"
)

// compiledDir caches, in the state directory, which generation applied
// the compiled list of each of the last few applies, under a key of
// everything that compile's output depends on: the commit (which fixes
// every file the compile reads), the facts, the compile options that shape
// the output (the host's vars among them) and this trail binary. An apply
// that finds its key there (a rollback to a recent commit, a re-apply,
// --force) reads that generation's step list instead of compiling the
// commit, when the list is still kept, names the commit and host, and
// every content it names is in the store. The engine stores a generation's
// list as the compile gave it, so nothing is written twice. It is a
// cache: a damaged or dangling entry is a compile.
const compiledDir = "compiled"

// compiledKeep is how many entries the cache holds, the most recently used.
const compiledKeep = 8

var compiledMagic = []byte("trail compiled 2\n")

// keyOptions are the compile.Options that shape a compile's output;
// TestCompileKeyCoversOptions fails when Options gains a field that is
// neither here nor named there as one that only changes what is read.
type keyOptions struct {
	Commit, Host string
	Vars         map[string]string
	HostVars     bool
	MaxSteps     int
}

// compileKey names a compile's output by its inputs, hex.
func compileKey(facts compile.Facts, o compile.Options) string {
	h := sha256.New()
	h.Write(compiledMagic)
	h.Write([]byte(binaryID()))
	f, _ := json.Marshal(facts)
	k, _ := json.Marshal(keyOptions{Commit: o.Commit, Host: o.Host, Vars: o.Vars, HostVars: o.HostVars, MaxSteps: o.MaxSteps})
	p, _ := json.Marshal(facts.Pending())
	fmt.Fprintf(h, "\nfacts %s\npending %s\noptions %s\n", f, p, k)
	return hex.EncodeToString(h.Sum(nil))
}

// factsSum names facts by every value: the key has only those read up
// front, an entry this with the ones its compile read on first use.
func factsSum(f compile.Facts) string {
	data, _ := json.Marshal(f)
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// usedFacts are the facts of pending (those left to read on first use
// when the facts were gathered) that a compile read or was given read,
// and the sum of all it saw.
func usedFacts(pending []string, res *compile.Result) ([]string, string) {
	left := res.Facts.Pending()
	var used []string
	for _, n := range pending {
		if !slices.Contains(left, n) {
			used = append(used, n)
		}
	}
	return used, factsSum(res.Facts)
}

var (
	binaryIDOnce sync.Once
	binaryIDText string
)

// binaryID identifies this trail build: its module and version control
// stamp, and its executable file (size, change time, inode), so a new or
// rebuilt binary, which may compile differently, never takes an older
// one's lists.
func binaryID() string {
	binaryIDOnce.Do(func() {
		var b bytes.Buffer
		if bi, ok := debug.ReadBuildInfo(); ok {
			b.WriteString(bi.String())
		}
		if exe, err := os.Executable(); err == nil {
			if info, err := os.Stat(exe); err == nil {
				fmt.Fprintf(&b, "\n%s %d %d", exe, info.Size(), info.ModTime().UnixNano())
				if st, ok := info.Sys().(*syscall.Stat_t); ok {
					fmt.Fprintf(&b, " %d %d %d", st.Dev, st.Ino, st.Ctim.Nano())
				}
			}
		}
		binaryIDText = b.String()
	})
	return binaryIDText
}

func (h *Host) compiledPath(key string) string {
	return filepath.Join(h.Settings.state(), compiledDir, key)
}

// compiledEntry is what the cache keeps under a key.
type compiledEntry struct {
	Commit     string   `json:"commit"`
	Generation int      `json:"generation"`
	Warnings   []string `json:"warnings,omitempty"`
	// Loaded are the facts the compile read on first use (packages,
	// units, ...), which the key cannot hold: a lookup reads them and
	// compares the sum of every fact with Facts.
	Loaded []string `json:"loaded,omitempty"`
	Facts  string   `json:"facts"`
	// unchecked is set by loadCompiled when the store was not looked at.
	unchecked bool
	// listOf is set by loadCompiled, for the applied generation, instead
	// of the list: its steps are not read yet (Compiled.readList).
	listOf *apply.Generation
}

// listOf reports whether a step list's header is of commit, for host,
// in this trail's version of the step language.
func listOf(hd stepfmt.Header, commit, host string) bool {
	return hd.Commit == commit && hd.Host == host && hd.Version == stepfmt.Version
}

// readList reads the steps of a cached list loadCompiled left unread.
func (c *Compiled) readList() error {
	g := c.listOf
	if g == nil {
		return nil
	}
	l, err := g.Steps()
	if err != nil {
		return err
	}
	if !listOf(l.Header, c.Commit.Hash, c.Facts.Hostname) {
		return fmt.Errorf("state: generation %d's step list changed while it was read", g.Number)
	}
	c.List, c.listOf = l, nil
	return nil
}

// contentKeys are the store keys the steps name (Step.StoreKey).
func contentKeys(steps []*stepfmt.Step) []string {
	var keys []string
	for _, st := range steps {
		if k, ok := st.StoreKey(); ok && strings.HasPrefix(k, "sha256:") {
			keys = append(keys, k)
		}
	}
	return keys
}

// cachedCompile is loadCompiled when cached is set.
func (h *Host) cachedCompile(key, commit string, facts *compile.Facts, cached bool) (*compiledEntry, *compile.Result, bool) {
	if !cached {
		return nil, nil, false
	}
	return h.loadCompiled(key, commit, facts)
}

// loadCompiled returns the compile cached under key for commit and the
// host of facts, when the facts its compile read on first use are still
// what they were (it reads them into facts), its generation's list is
// kept and the store holds every content it names. For the applied
// generation's list (a --force) the store is not looked at: its contents
// were all there when it was applied, and a check of each of 100,000 is
// a tenth of a second; the entry is marked unchecked, and the apply
// fetches the contents the changes it finds need (fetchContents).
func (h *Host) loadCompiled(key, commit string, facts *compile.Facts) (*compiledEntry, *compile.Result, bool) {
	p := h.compiledPath(key)
	data, err := os.ReadFile(p)
	if err != nil || len(data) < len(compiledMagic)+sha256.Size || !bytes.HasPrefix(data, compiledMagic) {
		return nil, nil, false
	}
	body, sum := data[:len(data)-sha256.Size], data[len(data)-sha256.Size:]
	var ent compiledEntry
	if s := sha256.Sum256(body); !bytes.Equal(s[:], sum) || json.Unmarshal(body[len(compiledMagic):], &ent) != nil || ent.Commit != commit {
		return nil, nil, false
	}
	for _, n := range ent.Loaded {
		facts.Load(n)
	}
	if factsSum(*facts) != ent.Facts {
		return nil, nil, false
	}
	e, err := h.Engine()
	if err != nil {
		return nil, nil, false
	}
	g, err := e.Generation(ent.Generation)
	if err != nil || g.Commit != commit {
		return nil, nil, false
	}
	var list *stepfmt.List
	if cur, err := e.Current(); err == nil && cur != nil && cur.Number == ent.Generation {
		// The applied generation's list is read only if the apply needs
		// it (readList): a --force that finds nothing drifted does not.
		hd, err := g.Header()
		if err != nil || !listOf(hd, commit, facts.Hostname) {
			return nil, nil, false
		}
		ent.unchecked, ent.listOf = true, g
	} else {
		list, err = g.Steps()
		if err != nil || !listOf(list.Header, commit, facts.Hostname) || len(missing(e.Store(), contentKeys(list.Steps))) > 0 {
			return nil, nil, false
		}
	}
	now := time.Now()
	os.Chtimes(p, now, now)
	return &ent, &compile.Result{List: list, Blobs: map[string][]byte{}, Facts: *facts}, true
}

// saveCompiled notes that generation g applied c's compiled list, and
// keeps the newest compiledKeep entries.
func (h *Host) saveCompiled(c *Compiled, g *apply.Generation) {
	if c.key == "" || g == nil || g.Commit != c.Commit.Hash {
		return
	}
	dir := filepath.Join(h.Settings.state(), compiledDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return
	}
	body, err := json.Marshal(compiledEntry{Commit: c.Commit.Hash, Generation: g.Number, Warnings: c.Warnings,
		Loaded: c.loaded, Facts: c.factsSum})
	if err != nil {
		return
	}
	data := append(append([]byte(nil), compiledMagic...), body...)
	sum := sha256.Sum256(data)
	if atomicfile.WriteUnsynced(h.compiledPath(c.key), append(data, sum[:]...), 0o600) != nil {
		return
	}
	h.pruneCompiled(dir)
}

// pruneCompiled removes all but the compiledKeep most recently used entries.
func (h *Host) pruneCompiled(dir string) {
	des, err := os.ReadDir(dir)
	if err != nil || len(des) <= compiledKeep {
		return
	}
	type aged struct {
		name string
		t    time.Time
	}
	var all []aged
	for _, d := range des {
		if info, err := d.Info(); err == nil && info.Mode().IsRegular() {
			all = append(all, aged{d.Name(), info.ModTime()})
		}
	}
	slices.SortFunc(all, func(a, b aged) int { return b.t.Compare(a.t) })
	for _, a := range all[min(compiledKeep, len(all)):] {
		os.Remove(filepath.Join(dir, a.name))
	}
}

// fetchContents puts keys, contents of commit's compiled list the store
// lacks, back into the store from the commit: a compile of it (not from
// the cache) staged as an apply stages one, but of those keys alone, and
// without saying its warnings again. It is the rare path of a --force
// that finds a target drifted whose content the store lost.
func (h *Host) fetchContents(commit string, keys []string) error {
	only := make(map[string]bool, len(keys))
	for _, k := range keys {
		only[k] = true
	}
	c, err := h.compile(commit, compileHow{lazy: true, again: true, only: only})
	if err != nil {
		return fmt.Errorf("compiling %s again to read them: %w", Short(commit), err)
	}
	c.dropProvenance()
	err = h.stageOnly(c, only)
	h.releaseRepo()
	if err != nil {
		return err
	}
	e, err := h.Engine()
	if err != nil {
		return err
	}
	if lost := missing(e.Store(), keys); len(lost) > 0 {
		return fmt.Errorf("%s does not make content %s: its compiled list in the state directory does not match the commit; 'trail fsck' checks the state", Short(commit), lost[0])
	}
	return nil
}
