package compile

import (
	"encoding/hex"
	"errors"
	"io/fs"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"trail/stepfmt"
)

// treeAttrs are the canonical values a tree stamps on every step.
type treeAttrs struct {
	mode, execMode, dirMode, owner, group, drift string
	exclude                                      []glob
}

// expandTree syncs a repository directory onto a host path: the directory
// itself, then every subdirectory, file and symlink under it in path
// order, minus exclusions. A file the repository marks executable gets an
// x bit wherever the mode has an r bit.
func expandTree(r *resource) {
	c := r.sc.c
	target, trng := r.target()
	if _, err := stepfmt.CanonTarget(stepfmt.KindDir, target); err != nil {
		r.diag(errorf(&trng, "Invalid path", "tree %q: %v.", target, err))
		return
	}
	dir, srng, ok := r.repoPathAttr("source")
	if !ok {
		return
	}
	ta, ok := r.treeAttrs()
	if !ok {
		return
	}
	info, err := fs.Stat(c.fsys, dir)
	if err != nil || !info.IsDir() {
		detail := "source %q is a file: a tree syncs a directory; use a file block for one file."
		if err != nil {
			detail = "source %q: " + errText(err) + "; source is a directory relative to the repository root."
		}
		r.diag(errorf(&srng, "Invalid tree source", detail, dir))
		return
	}
	root := r.newStep(stepfmt.KindDir, target, trng)
	r.stamp(root, ta.dirMode, ta)
	if !r.add(root, dir) {
		return
	}
	dirHash, _ := info.Sys().(string)
	r.walkTree(dir, dirHash, root.Target, srng, trng, ta)
}

// treeWindow is how many entries of a tree are listed before they are
// read (in parallel) and made steps: a tree is never held whole, neither
// its contents nor its listing.
const treeWindow = 512

// windowBytes bounds the contents a window holds: once what its readers
// read passes it, the files read so far are made steps before more are
// read, so a window of big files holds windowBytes and a file a reader,
// not 512 files.
const windowBytes = 4 << 20

// treeItem is one entry of a tree: listed into a window, read in
// parallel, then turned into a step in walk order.
type treeItem struct {
	dir   *treeDir
	name  string
	typ   EntryType  // EntryFile, EntryExec, EntryDir or EntryLink
	to    string     // symlink target
	blob  [20]byte   // git object hash of a file, when the FS gives it
	sum   [32]byte   // content hash, when known
	known bool       // sum is set, from a resolved tree
	key   string     // content key, when KnownBlob knew it
	ent   *TreeEntry // its resolved tree's entry, when the content is not known
	err   error
	read  bool // the content was read and hashed
	keyed bool // the key was made from sum
	// path (in the repository) and target, set when the window is read.
	path, target string
}

// treeDir is a directory of a tree being walked: its repository path and
// its path under the tree's source ("" for the source itself).
type treeDir struct{ path, rel string }

// kind is the item's step kind.
func (it *treeItem) kind() stepfmt.Kind {
	switch it.typ {
	case EntryDir:
		return stepfmt.KindDir
	case EntryLink:
		return stepfmt.KindLink
	}
	return stepfmt.KindFile
}

// unread is a file whose content key is not known yet.
func (it *treeItem) unread() bool { return it.kind() == stepfmt.KindFile && !it.known && it.key == "" }

// treeWalk is one tree block's walk of its source.
type treeWalk struct {
	r          *resource
	root, base string
	srng, trng hcl.Range
	ta         treeAttrs
	win        []treeItem
	data       [][]byte
	buf        []byte
	stopped    bool // the step budget is spent
	// done is the resolved trees whose entries are all in the window or
	// made steps: handed to Options.Resolved once the window is.
	done []resolvedTree
}

// resolvedTree is a tree the compile resolved, as c.trees held it.
type resolvedTree struct {
	hash string
	es   []TreeEntry
}

var errStopWalk = errors.New("stop")

// walkTree walks the tree's source in path order, as fs.WalkDir would: a
// directory, then what is under it, a window of entries at a time. Each
// directory whose git tree a compile resolved before (Options.Trees) is
// taken from that instead of git objects. A directory that cannot be read
// fails the tree: what it made is taken back, and its step diagnostics
// too, but for the listing's own (at the source).
func (r *resource) walkTree(dir, dirHash, base string, srng, trng hcl.Range, ta treeAttrs) {
	c := r.sc.c
	w := &treeWalk{r: r, root: dir, base: base, srng: srng, trng: trng, ta: ta,
		win: make([]treeItem, 0, treeWindow), data: make([][]byte, treeWindow)}
	mark, made := len(c.diags), len(r.steps)
	err := w.walk(&treeDir{path: dir}, dirHash)
	defer r.trim()
	if err == nil {
		w.flush()
		return
	}
	if err == errStopWalk {
		if !w.stopped {
			w.flush()
		}
		return
	}
	kept := c.diags[:mark]
	for _, d := range c.diags[mark:] {
		if d.Subject == &w.srng {
			kept = append(kept, d)
		}
	}
	c.diags = kept
	c.nsteps -= len(r.steps) - made
	r.steps, r.repo = r.steps[:made], r.repo[:min(made, len(r.repo))]
	r.diag(errorf(&srng, "Cannot read tree source", "Walking %s in the repository failed: %s.", dir, errText(err)))
}

// push adds an item to the window, making the window's steps once full.
func (w *treeWalk) push(it treeItem) error {
	w.win = append(w.win, it)
	if len(w.win) == cap(w.win) && !w.flush() {
		return errStopWalk
	}
	return nil
}

// walk lists the directory d (hash its git tree, "" when unknown).
func (w *treeWalk) walk(d *treeDir, hash string) error {
	c := w.r.sc.c
	lazy := c.opts.LazyTree && hash != ""
	var es []TreeEntry
	var errs []error
	fresh := true
	if lazy {
		es, fresh = c.treeOf(hash)
		fresh = !fresh
	}
	if fresh {
		var err error
		if es, errs, err = c.readTree(d.path, hash); err != nil {
			return err
		}
		if lazy && errs == nil {
			c.trees[hash] = es
			c.resolved++
		}
	} else if _, ok := c.trees[hash]; !ok {
		// Only named: a tree held whole by the cache that gave it is not
		// held again by the compile (a pull of 100,000 files walks them
		// all).
		c.kept[hash] = true
	}
	var prev before
	if fresh && lazy {
		prev = c.before(d.path)
	}
	for i := range es {
		e := &es[i]
		name := e.Name
		if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
			w.r.diag(errorf(&w.srng, "Invalid tree entry", "The repository directory %s holds an entry named %q, which no path can name.", w.root, name))
			return errStopWalk
		}
		if name == ".git" {
			continue
		}
		if len(w.ta.exclude) > 0 {
			crel := name
			if d.rel != "" {
				crel = d.rel + "/" + name
			}
			if w.ta.excluded(crel, name) {
				continue
			}
		}
		it := treeItem{dir: d, name: name}
		switch e.Type {
		case EntryDir:
			it.typ = EntryDir
			if err := w.push(it); err != nil {
				return err
			}
			sub := ""
			if e.Git != ([20]byte{}) {
				sub = hex.EncodeToString(e.Git[:])
			}
			crel := name
			if d.rel != "" {
				crel = d.rel + "/" + name
			}
			if err := w.walk(&treeDir{path: joinPath(d.path, name), rel: crel}, sub); err != nil {
				return err
			}
			continue
		case EntryLink:
			it.typ, it.to = EntryLink, e.To
			if errs != nil {
				it.err = errs[i]
			}
		case EntryFile, EntryExec:
			it.typ, it.blob = e.Type, e.Git
			switch {
			case !c.opts.LazyTree || e.Git == ([20]byte{}):
			case e.Known:
				it.sum, it.known = e.Sum, true
			default:
				if sum, ok := prev.sum(name, e.Git); ok {
					it.sum, it.known = sum, true
				} else if c.opts.KnownBlob != nil && !prev.enough(c) {
					it.key, _ = c.opts.KnownBlob(hex.EncodeToString(e.Git[:]))
				}
				if !fresh {
					// A resolution that did not need this entry:
					// resolve it again, this entry with it.
					es = slices.Clone(es)
					e, fresh = &es[i], true
					c.trees[hash] = es
					delete(c.kept, hash)
					c.resolved++
				}
				it.ent = e
			}
		default:
			w.r.diag(errorf(&w.srng, "Invalid tree entry",
				"%s is neither a file, a directory nor a symlink (a git submodule?); exclude it or move it out of the tree.", joinPath(d.path, name)))
			continue
		}
		if err := w.push(it); err != nil {
			return err
		}
	}
	if es, ok := c.trees[hash]; ok && c.opts.Resolved != nil {
		w.done = append(w.done, resolvedTree{hash, es})
	}
	return nil
}

// treeAttrs canonicalises the tree's defaults once for all its steps.
func (r *resource) treeAttrs() (treeAttrs, bool) {
	var ta treeAttrs
	ok := true
	get := func(dst *string, kind stepfmt.Kind, key, name, def string) {
		v, good := r.canon(kind, key, name, def)
		*dst, ok = v, ok && good
	}
	get(&ta.mode, stepfmt.KindFile, "mode", "mode", "0644")
	get(&ta.dirMode, stepfmt.KindDir, "mode", "dir_mode", "0755")
	get(&ta.owner, stepfmt.KindFile, "owner", "owner", "root")
	get(&ta.group, stepfmt.KindFile, "group", "group", "root")
	get(&ta.drift, stepfmt.KindFile, "drift", "drift", "")
	if ok {
		m, _ := strconv.ParseUint(ta.mode, 8, 32)
		ta.execMode = strconv.FormatUint(m|(m&0o444)>>2, 8)
		if len(ta.execMode) < 4 {
			ta.execMode = strings.Repeat("0", 4-len(ta.execMode)) + ta.execMode
		}
	}
	if pats, rng, given := r.list("exclude"); given {
		for _, p := range pats {
			g, err := compileGlob(p)
			if err != nil {
				r.diag(errorf(&rng, "Invalid exclude", "%v.", err))
				ok = false
				continue
			}
			ta.exclude = append(ta.exclude, g)
		}
	} else if _, present := r.attrs["exclude"]; present {
		ok = false
	}
	return ta, ok
}

func (ta treeAttrs) excluded(rel, name string) bool {
	for _, g := range ta.exclude {
		if g.matchName(rel, name) {
			return true
		}
	}
	return false
}

// treeEntry records the content of a tree file under its key: where to
// read it again, or (without LazyTree) the content; an apply is handed
// what was read instead (Options.Read), and what a blob was learned to hold is
// kept, in its resolved tree's entry (and counted in Learned).
func (c *compiler) treeEntry(it *treeItem, data []byte) {
	key := it.key
	if it.ent != nil {
		if it.read {
			it.ent.Sum = it.sum
		} else {
			hex.Decode(it.ent.Sum[:], []byte(key[len(blobPrefix):]))
		}
		it.ent.Known = true
	}
	if !it.read {
		c.addRef(key, it.path)
		return
	}
	if it.ent != nil {
		c.learned++
	}
	if c.opts.Read != nil && c.opts.LazyTree {
		// Handed over, and not named in Refs: the reader keeps it. A
		// content two files hold, neither known, is handed twice.
		if !c.inBlobs(key) {
			c.opts.Read(key, data)
		}
		return
	}
	c.treeBlob(data, it.path, key)
}
