package compile

import (
	"fmt"
	"io/fs"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"

	"trail/stepfmt"
)

// DefaultMaxSteps bounds the steps one compile may produce when Options
// leaves MaxSteps at zero, so that a runaway for_each fails with a
// diagnostic instead of exhausting the machine.
const DefaultMaxSteps = 1_000_000

// Options are the per-run inputs besides the config and the facts.
type Options struct {
	// Commit is written into the step list header.
	Commit string
	// Host is written into the header; empty means Facts.Hostname.
	Host string
	// Vars override root variables by name. The raw string is the value of
	// a variable of type string; for any other type it is read as an HCL
	// expression (["a", "b"], 3, true, {k = "v"}).
	Vars map[string]string
	// HostVars marks Vars as a host's settings (trail.var.NAME), which
	// outlive the commits that declare them: a value for a variable the
	// config does not declare is a warning, not an error, so a rollback to
	// a commit from before the variable still compiles.
	HostVars bool
	// MaxSteps bounds the number of steps (0: DefaultMaxSteps).
	MaxSteps int
	// LazyTree keeps the content of tree entries out of memory: each is
	// read and hashed, then dropped, and Result.Refs says where to read it
	// again (an apply stores it). A tree of 100,000 files then costs its
	// steps, not its bytes.
	LazyTree bool
	// KnownBlob, with LazyTree, gives the "sha256:<hex>" key of a git blob
	// by its object hash, as an earlier compile learned it (a resolved
	// tree's entry, Result.Trees or Options.Resolved):
	// a tree entry it knows is neither read nor hashed again, so a commit
	// that changes k files of a big tree reads k blobs. Content is a pure
	// function of the blob hash, so a key once learned stays right.
	KnownBlob func(gitHash string) (key string, ok bool)
	// Trees, with LazyTree, gives a git tree's entries by its object hash
	// as an earlier compile resolved them (Result.Trees or Resolved, and
	// those it named in Result.Kept as they were given; see TreeEntry): a tree
	// block lists such a tree from them instead of git objects, so only
	// the trees a commit changed are read. The entries are not modified,
	// nor held past the tree's walk: Trees may make them afresh each call.
	Trees func(treeHash string) ([]TreeEntry, bool)
	// Read, with LazyTree, is handed each tree entry's content the compile
	// reads and hashes, before it is dropped: an apply stores it then
	// instead of reading it again. Result.Refs does not name it (at
	// 100,000 files Refs was 5 MB at the compile's end): Read keeps it,
	// or the compile is to be run again without Read. data is not kept
	// by the compile and may be kept by Read.
	Read func(key string, data []byte)
	// Resolved, with LazyTree, is handed each git tree the compile
	// resolved as soon as the last of its entries is made a step (its
	// entries then say all the compile learned of them), instead of the
	// tree being held to the end in Result.Trees: at 100,000 files that
	// was 9 MB at the compile's peak. es is not used by the compile after
	// the call. A tree may be handed again, resolved further (a later
	// tree block took an entry an earlier one excluded, given back by
	// Trees): the last one handed holds the most.
	Resolved func(treeHash string, es []TreeEntry)
	// Before, with LazyTree and Trees, gives the git tree a repository
	// directory was in the commit applied before, by its path, when it
	// was a directory there: a directory the commit changed takes the
	// sums of the files it did not change from that tree's resolution
	// (Trees), by name and blob, and reads the files it did change (up
	// to a few dozen) without asking KnownBlob. A pull of one changed
	// file then neither reads nor looks up the others. Like Trees and
	// KnownBlob it changes what is read, never the list.
	Before func(dir string) (treeHash string, ok bool)
	// NoRepoPaths leaves Origin.RepoPath empty: an apply, which drops the
	// origins once compiled, asks none of them, and a tree's were kept
	// to the compile's end, a string a step (16 bytes, and its share of
	// the window's paths): 3 to 5 MB of a 100,000-file first apply's
	// compile at its peak. The validation places its diagnostics by
	// Origin.Maker, which is kept.
	NoRepoPaths bool
	// Files, with LazyTree, is about how many tree entries the compile
	// will list, when the caller knows (the trees it gives hold them):
	// Result.Refs is made that large at once instead of grown.
	Files int
}

// Result is a compiled config. On errors only Files is set.
type Result struct {
	// List is the ordered step list for the host, validated.
	List *stepfmt.List
	// Origins[i] says where List.Steps[i] came from, in more detail than
	// the step's Source.
	Origins []Origin
	// Blobs maps "sha256:<hex>" to the content of every FILE step, but
	// for those in Refs.
	Blobs map[string][]byte
	// Refs names, for a compile with Options.LazyTree, each tree entry's
	// "sha256:<hex>" and its repository path, for ReadBlob to read it from
	// (the last entry with that content). A content handed to
	// Options.Read is not in it, nor one Blobs holds.
	Refs *Refs
	// Learned counts the blobs of resolved trees this compile read (with
	// LazyTree, from git objects) and hashed: what it learned is in their
	// trees' entries (Result.Trees or Options.Resolved).
	Learned int
	// Trees holds the git trees the tree blocks of this compile listed and
	// resolved (with LazyTree, and without Options.Resolved, which is
	// handed them instead), by object hash: with Kept, what
	// Options.Trees should give next time. Kept names, by object hash, the
	// listed trees taken from Options.Trees as it gave them, not held
	// here: their entries are the giver's, and not held by the compile
	// past their walk. Resolved counts the trees read from git objects.
	Trees    map[string][]TreeEntry
	Kept     map[string]bool
	Resolved int
	// Facts are the facts as the compile ended with them: those it read on
	// first use (Facts.Load) are no longer Pending.
	Facts Facts
	// Files holds the source of every config and template file read, by
	// its repository path, for rendering diagnostics with snippets.
	Files map[string]*hcl.File
}

// Origin is the provenance of one step: the resource instance that made
// it, shared by all its steps, and the repository file it comes from.
type Origin struct {
	*Maker
	// RepoPath is the repository file the step's content or entry comes
	// from (tree entries, file source and template), "" when none.
	RepoPath string
}

// Maker is a resource instance that made steps.
type Maker struct {
	// Resource is the address of the resource instance, e.g. file.motd,
	// tree.www or module.site["a"].file.conf.
	Resource string
	// Range is the whole block of the resource.
	Range hcl.Range
}

// compiler holds the state of one Compile call.
type compiler struct {
	fsys          fs.FS
	facts         Facts
	opts          Options
	parser        *hclparse.Parser
	files         map[string]*hcl.File
	modules       map[string]*module
	templateCache map[string]parsedTemplate
	tplStack      []string               // templates being rendered, for loops
	tplVars       []map[string]cty.Value // and their variables, for include
	funcs         map[string]function.Function
	// hostCtx holds host, the facts; every context that sees them is its
	// child, so that a fact read on first use (needFacts) is seen by all.
	hostCtx *hcl.EvalContext
	diags   hcl.Diagnostics
	// unparsed is set when a config file did not parse: its variable
	// blocks are unknown, so overrides are not called undeclared.
	unparsed  bool
	resources []*resource // active resource instances, in declaration order
	blobs     map[string][]byte
	refs      []contentRef
	learned   int
	trees     map[string][]TreeEntry
	kept      map[string]bool
	resolved  int
	nsteps    int
	textBytes int64 // config and template bytes read, for maxConfigTotal
	tooMany   bool
	// beforeMisses counts the files read, in directories known before
	// (Options.Before), without asking KnownBlob.
	beforeMisses int
	// listIndex, when the order made one the list can use, indexes
	// every step of the list in list order, none twice.
	listIndex *stepfmt.Index
	// reference takes the general path where a shortcut gives its
	// result: the order's sort where the declaration order is its result.
	reference bool
}

// Compile compiles the config in fsys (all *.hcl at its root, plus what
// they include and the modules they call) for the host described by facts.
// It is deterministic: the same fsys, facts and options give byte-identical
// step lists. Any error diagnostic means no steps: Result then carries only
// Files, for rendering the diagnostics.
func Compile(fsys fs.FS, facts Facts, opts Options) (*Result, hcl.Diagnostics) {
	return compile(fsys, facts, opts, false)
}

// compile is Compile; reference takes the general path where a shortcut
// gives its result (fastpath_test.go compares the two).
func compile(fsys fs.FS, facts Facts, opts Options, reference bool) (*Result, hcl.Diagnostics) {
	if opts.MaxSteps <= 0 {
		opts.MaxSteps = DefaultMaxSteps
	}
	c := &compiler{
		fsys: fsys, facts: facts.clone(), opts: opts, reference: reference,
		parser:        hclparse.NewParser(),
		files:         map[string]*hcl.File{},
		modules:       map[string]*module{},
		templateCache: map[string]parsedTemplate{},
		blobs:         map[string][]byte{},
		refs:          make([]contentRef, 0, max(0, min(opts.Files, opts.MaxSteps))),
		trees:         map[string][]TreeEntry{},
		kept:          map[string]bool{},
	}
	c.funcs = c.functions()
	c.hostCtx = &hcl.EvalContext{Variables: map[string]cty.Value{"host": c.facts.Value()}, Functions: c.funcs}
	res := &Result{Files: c.files}
	if mod := c.loadModule(".", nil); mod != nil {
		root := c.newScope(mod, nil, "", nil, nil)
		root.walk()
	}
	if d, ok := fsys.(interface{ DropCaches() }); ok {
		// All that is read of many objects is read: the trees.
		d.DropCaches()
	}
	c.resolveRefs()
	if c.diags.HasErrors() {
		return res, dedupe(c.diags)
	}
	steps, origins := c.order()
	if c.diags.HasErrors() {
		return res, dedupe(c.diags)
	}
	host := opts.Host
	if host == "" {
		host = facts.Hostname
	}
	list := &stepfmt.List{
		Header: stepfmt.Header{Version: stepfmt.Version, Commit: opts.Commit, Host: host},
		Steps:  steps,
	}
	c.validate(list, origins)
	if c.diags.HasErrors() {
		return res, dedupe(c.diags)
	}
	res.List, res.Origins, res.Blobs, res.Refs = list, origins, c.blobs, c.refsResult()
	res.Learned, res.Trees, res.Kept, res.Resolved = c.learned, c.trees, c.kept, c.resolved
	res.Facts = c.facts
	return res, dedupe(c.diags)
}

// ReadBlob returns the content with key, from Blobs or, for a key in Refs,
// read again from fsys (the tree the result was compiled from) and checked
// against the key.
func (r *Result) ReadBlob(fsys fs.FS, key string) ([]byte, error) {
	if data, ok := r.Blobs[key]; ok {
		return data, nil
	}
	p, ok := r.Refs.Path(key)
	if !ok {
		return nil, fmt.Errorf("no content %s in the compiled config", key)
	}
	data, err := fs.ReadFile(fsys, p)
	if err != nil {
		return nil, err
	}
	if got := blobKey(data); got != key {
		return nil, fmt.Errorf("%s changed while it was applied: it was %s, now %s", p, key, got)
	}
	return data, nil
}
