package host

import (
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"trail/apply"
	"trail/compile"
	"trail/gitrepo"
	"trail/stepfmt"
)

// Compiled is a commit compiled for this host.
type Compiled struct {
	Commit gitrepo.Commit
	*compile.Result
	// NoConfig is a commit with no *.hcl file at its root, from before
	// trail (or after its config was taken out): it manages nothing and
	// compiles to an empty list.
	NoConfig bool
	// Warnings are the compile's warnings, one line each (compile.OneLine),
	// printed already; an apply also sends them to the journal.
	Warnings []string
	// tree is the commit's tree, where the contents in Result.Refs are
	// read from.
	tree fs.FS
	// Cached marks a list taken from the compiled cache (compiled.go)
	// instead of compiled: the store holds every content it names, or,
	// when unchecked, held them when its generation was applied.
	Cached bool
	// generation is the generation whose step list a cached compile's
	// list was read from (apply.Meta.ReadFrom).
	generation int
	// listOf, with unchecked, is the applied generation whose list was
	// not read (Result.List is nil until readList).
	listOf *apply.Generation
	// unchecked marks a cached list of the applied generation whose
	// contents were not all looked for in the store (see loadCompiled):
	// the apply fetches those a change needs (fetchContents).
	unchecked bool
	// key names the compile in the compiled cache, for an apply; loaded
	// and factsSum are the facts it read on first use and the sum of all
	// it saw (compiledEntry).
	key      string
	loaded   []string
	factsSum string
	// trees is the resolved tree cache the compile used, saved once
	// staged.
	trees *treeCache
}

// CompileError is a config that does not compile: the diagnostics, and the
// files to render their snippets from.
type CompileError struct {
	Commit string
	Diags  hcl.Diagnostics
	Result *compile.Result
}

func (e *CompileError) Error() string {
	lines := compile.Lines(e.Diags)
	msg := fmt.Sprintf("commit %s does not compile: %d error(s)", Short(e.Commit), len(e.Diags.Errs()))
	if len(lines) > 0 {
		msg += ": " + lines[0]
	}
	return msg
}

// Source is the place of the first error, for the journal and status.
func (e *CompileError) Source() string {
	for _, d := range e.Diags {
		if d.Severity == hcl.DiagError && d.Subject != nil {
			return fmt.Sprintf("%s:%d", d.Subject.Filename, d.Subject.Start.Line)
		}
	}
	return ""
}

// Facts returns the facts the config is compiled with: the root's, with the
// host name setting and the trail.fact settings over them.
func (h *Host) Facts() (compile.Facts, error) {
	f, err := compile.GatherFacts(h.Settings.root())
	if err != nil {
		return f, err
	}
	if h.Settings.Hostname != "" {
		if err := f.Set("hostname", h.Settings.Hostname); err != nil {
			return f, err
		}
	}
	for _, name := range slices.Sorted(maps.Keys(h.Settings.Facts)) {
		if err := f.Set(name, h.Settings.Facts[name]); err != nil {
			return f, fmt.Errorf("setting trail.fact.%s: %w", name, err)
		}
	}
	return f, nil
}

// Compile compiles the commit rev names, read from git objects.
func (h *Host) Compile(rev string) (*Compiled, error) { return h.compile(rev, compileHow{}) }

// compileToApply is Compile for an apply: tree contents are not held but
// read again as they are stored (see compile.Options.LazyTree).
func (h *Host) compileToApply(rev string) (*Compiled, error) {
	c, err := h.compileUnread(rev)
	if err != nil || c.listOf == nil {
		return c, err
	}
	err = h.readList(&c, rev)
	return c, err
}

// compileUnread is compileToApply that leaves the applied generation's
// cached list unread (Compiled.listOf): a --force reads it only if a
// target drifted (readList).
func (h *Host) compileUnread(rev string) (*Compiled, error) {
	return h.compile(rev, compileHow{lazy: true, cached: true})
}

// readList reads the list compileUnread left unread; if it is gone or
// damaged, the commit is compiled instead.
func (h *Host) readList(c **Compiled, rev string) error {
	if (*c).readList() == nil {
		return nil
	}
	fresh, err := h.compile(rev, compileHow{lazy: true, again: true})
	if err != nil {
		return err
	}
	*c = fresh
	return nil
}

// compileHow says how compile reads a commit.
type compileHow struct {
	lazy   bool // as compileToApply: tree contents stored as read, not held
	cached bool // a list the compiled cache holds for it is taken instead
	// again is a compile of a commit whose compile (or cached one) said
	// its warnings already: they are not said twice.
	again bool
	// only, with lazy, are the contents to store as they are read (nil:
	// every one): fetchContents wants a few, not all the store lacks.
	only map[string]bool
}

// compile compiles rev as how says.
func (h *Host) compile(rev string, how compileHow) (*Compiled, error) {
	lazy := how.lazy
	r, err := h.Repo()
	if err != nil {
		return nil, err
	}
	c, err := r.Commit(rev)
	if err != nil {
		return nil, err
	}
	tree, err := r.Tree(c.Hash)
	if err != nil {
		return nil, err
	}
	if names, err := fs.Glob(tree, "*.hcl"); err == nil && len(names) == 0 {
		return h.noConfig(c)
	}
	facts, err := h.Facts()
	if err != nil {
		return nil, err
	}
	opts := compile.Options{Commit: c.Hash, Vars: h.Settings.Vars, HostVars: true}
	var trees *treeCache
	var pending []string
	key := ""
	if lazy {
		key, pending = compileKey(facts, opts), facts.Pending()
		if ent, res, ok := h.cachedCompile(key, c.Hash, &facts, how.cached); ok {
			h.printWarnings(c.Hash, ent.Warnings)
			return &Compiled{Commit: c, Result: res, Warnings: ent.Warnings, tree: tree, Cached: true,
				generation: ent.Generation, key: key, loaded: ent.Loaded, factsSum: ent.Facts, unchecked: ent.unchecked, listOf: ent.listOf}, nil
		}
		trees = h.loadTrees()
		opts.LazyTree, opts.KnownBlob, opts.Trees, opts.Resolved = true, trees.known, trees.tree, trees.resolved
		// Dropped once compiled (dropProvenance), unasked.
		opts.NoRepoPaths = true
		opts.Files = trees.entries
	}
	var sink *blobSink
	if lazy {
		if e, err := h.Engine(); err == nil {
			sink = &blobSink{st: e.Store(), only: how.only}
			opts.Read = sink.read
			opts.Before = h.before(r, e, c.Hash)
		}
	}
	res, warnings, err := h.compileWith(tree, facts, opts)
	if sink != nil {
		if sink.done(); sink.err != nil && err == nil {
			// What the compile read is not all stored, and Refs does not
			// name it: compiled again naming every content, staging reads
			// them and places the failure on a step.
			opts.Read = nil
			res, warnings, err = h.compileWith(tree, facts, opts)
		}
	}
	if trees != nil {
		// The index of the cache's keys by blob served the compile only.
		trees.dropBlobs()
		if err != nil {
			trees.close()
		}
	}
	if err != nil {
		return nil, err
	}
	if !how.again {
		h.printWarnings(c.Hash, warnings)
	}
	out := &Compiled{Commit: c, Result: res, Warnings: warnings, tree: tree, trees: trees, key: key}
	if lazy {
		out.loaded, out.factsSum = usedFacts(pending, res)
	}
	return out, nil
}

// before is compile.Options.Before over the applied commit's tree: the
// git tree a directory was there (nil when nothing is applied, or the
// commit is the applied one).
func (h *Host) before(r *gitrepo.Repo, e *apply.Engine, commit string) func(string) (string, bool) {
	cur, err := e.Current()
	if err != nil || cur == nil || cur.Commit == commit {
		return nil
	}
	prev, err := r.Tree(cur.Commit)
	if err != nil {
		return nil
	}
	return func(dir string) (string, bool) {
		info, err := fs.Stat(prev, dir)
		if err != nil || !info.IsDir() {
			return "", false
		}
		hash, ok := info.Sys().(string)
		return hash, ok && hash != ""
	}
}

func (h *Host) printWarnings(commit string, warnings []string) {
	for _, w := range warnings {
		fmt.Fprintf(h.Err, "trail: %s: %s\n", Short(commit), w)
	}
}

// noConfig is the compile of a commit that has no trail config: an empty
// list. Whether applying it may remove what trail manages is the
// mass-removal guard's to say: not when it arrives by a pull.
func (h *Host) noConfig(c gitrepo.Commit) (*Compiled, error) {
	facts, err := h.Facts()
	if err != nil {
		return nil, err
	}
	l := &stepfmt.List{Header: stepfmt.Header{Version: stepfmt.Version, Commit: c.Hash, Host: facts.Hostname}}
	return &Compiled{Commit: c, Result: &compile.Result{List: l, Blobs: map[string][]byte{}}, NoConfig: true}, nil
}

// compileWith compiles a config tree for this host. The host's trail.var
// settings are host variables: one the commit does not declare is a
// warning, so a rollback to a commit from before it still compiles.
func (h *Host) compileWith(fsys fs.FS, facts compile.Facts, opts compile.Options) (*compile.Result, []string, error) {
	res, diags := compile.Compile(fsys, facts, opts)
	if diags.HasErrors() {
		return nil, nil, &CompileError{Commit: opts.Commit, Diags: diags, Result: res}
	}
	return res, compile.Lines(diags), nil
}

// stageBatch bounds the contents read into memory at once (sinkBytes their
// bytes): each batch is
// staged to temporary files, and the store makes all of them durable
// together at the end (one flush for the whole tree: each flush syncs the
// whole file system, so flushing per batch cost a sync per 1,024 files).
const stageBatch = 1024

// stage puts the compiled contents into the store, so the plan finds them.
func (h *Host) stage(c *Compiled) error { return h.stageOnly(c, nil) }

// stageOnly is stage of the contents only names (nil: all of them).
func (h *Host) stageOnly(c *Compiled, only map[string]bool) error {
	if c.trees != nil {
		// Saved once staged (saveTrees closes it); closed if not.
		defer c.trees.close()
	}
	e, err := h.Engine()
	if err != nil {
		return err
	}
	keys := make([]string, 0, len(c.Blobs)+c.Refs.Len())
	for k := range c.Blobs {
		keys = append(keys, k)
	}
	for k := range c.Refs.All() {
		keys = append(keys, k)
	}
	if only != nil {
		keys = slices.DeleteFunc(keys, func(k string) bool { return !only[k] })
	}
	keys = missing(e.Store(), keys)
	slices.Sort(keys)
	// Refs names a content two files share twice.
	keys = slices.Compact(keys)
	for lo := 0; lo < len(keys); {
		// Up to stageBatch contents, or fewer once they pass sinkBytes:
		// a batch of big files is not read whole.
		var blobs [][]byte
		size := 0
		for hi := lo; hi < len(keys) && hi-lo < stageBatch && size < sinkBytes; hi++ {
			b, err := c.ReadBlob(c.tree, keys[hi])
			if err != nil {
				e.Store().Abort()
				return fmt.Errorf("stage %s: %w", keys[hi], err)
			}
			blobs, size = append(blobs, b), size+len(b)
		}
		batch := keys[lo : lo+len(blobs)]
		lo += len(blobs)
		got, err := e.Store().StageMany(blobs)
		if err != nil {
			return stageError(c, e.Store(), err)
		}
		for i, k := range got {
			if !strings.EqualFold(k, batch[i]) {
				e.Store().Abort()
				return fmt.Errorf("store: content of %s was stored as %s", batch[i], k)
			}
		}
	}
	if err := e.Store().Flush(); err != nil {
		return stageError(c, e.Store(), err)
	}
	if c.trees != nil {
		h.saveTrees(c.trees, c.Result)
		c.trees, c.Result.Trees, c.Result.Kept = nil, nil, nil
	}
	return nil
}

// dropProvenance lets go of what a compile kept to say where each step
// came from (origins, the config's sources): an apply needs none of it
// once compiled, and staging a big tree allocates while it is held.
func (c *Compiled) dropProvenance() {
	if c.Result != nil {
		c.Origins, c.Files = nil, nil
	}
}

// dropCompiled lets go of all a staged compile holds but its list, its
// facts and what the compiled cache saves of it.
func (c *Compiled) dropCompiled() {
	c.dropProvenance()
	if c.Result != nil {
		c.Blobs, c.Refs, c.Trees, c.Kept = nil, nil, nil, nil
	}
}

// releaseRepo closes the repository and drops it with its object caches
// (tens of MiB for a big tree); Repo opens it again when asked.
func (h *Host) releaseRepo() {
	if h.repo != nil {
		h.repo.Close()
		h.repo = nil
	}
}
