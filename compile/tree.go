package compile

import (
	"encoding/hex"
	"errors"
	"io/fs"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

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
	items, ok := r.listTree(dir, dirHash, root.Target, srng, ta)
	if !ok {
		return
	}
	// A window at a time: read in parallel, then made steps and dropped,
	// so a lazy compile never holds a whole tree's contents.
	const window = 512
	data := make([][]byte, window)
	for lo := 0; lo < len(items); lo += window {
		win := items[lo:min(lo+window, len(items))]
		readTreeFiles(c.fsys, win, data)
		for i := range win {
			if !r.treeStep(&win[i], data[i], trng, ta) {
				return
			}
			data[i] = nil
		}
	}
}

// treeItem is one entry of a tree: listed first, read in parallel (into
// a window's contents, not the item), then turned into a step in walk
// order. A tree lists all its items at once: at 100,000 files each byte
// here is 100 KB (112 bytes an item, down from 152).
type treeItem struct {
	path, target string
	typ          EntryType  // EntryFile, EntryExec, EntryDir or EntryLink
	to           string     // symlink target
	git          string     // git object hash, when the content is not known
	key          string     // content key, when a resolved tree or KnownBlob knew it
	ent          *TreeEntry // its entry in a tree being resolved, for the key
	err          error
}

// kind is the kind of the item's step.
func (it *treeItem) kind() stepfmt.Kind {
	switch it.typ {
	case EntryDir:
		return stepfmt.KindDir
	case EntryLink:
		return stepfmt.KindLink
	}
	return stepfmt.KindFile
}

// listTree walks the tree's source in path order without reading files,
// as fs.WalkDir would: a directory, then what is under it. Each directory
// whose git tree a compile resolved before (Options.Trees) is taken from
// that instead of git objects. It stops early once the step budget is
// spent; add reports that.
func (r *resource) listTree(dir, dirHash, base string, srng hcl.Range, ta treeAttrs) ([]treeItem, bool) {
	w := &treeWalk{r: r, root: dir, base: base, srng: srng, ta: ta}
	if err := w.walk(dir, "", dirHash); err != nil && err != errStopWalk {
		r.diag(errorf(&srng, "Cannot read tree source", "Walking %s in the repository failed: %s.", dir, errText(err)))
		return nil, false
	}
	return w.items, true
}

// treeWalk is one listTree.
type treeWalk struct {
	r          *resource
	root, base string
	srng       hcl.Range
	ta         treeAttrs
	items      []treeItem
}

var errStopWalk = errors.New("stop")

// walk lists the directory p (rel under the tree's source; hash its git
// tree, "" when unknown).
func (w *treeWalk) walk(p, rel, hash string) error {
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
		if es, errs, err = c.readTree(p); err != nil {
			return err
		}
		if lazy && errs == nil {
			c.trees[hash] = es
			c.resolved++
		}
	} else {
		c.trees[hash] = es
	}
	for i := range es {
		e := &es[i]
		if c.nsteps+len(w.items) >= c.opts.MaxSteps {
			return errStopWalk
		}
		name := e.Name
		if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
			w.r.diag(errorf(&w.srng, "Invalid tree entry", "The repository directory %s holds an entry named %q, which no path can name.", w.root, name))
			return errStopWalk
		}
		crel := name
		if rel != "" {
			crel = rel + "/" + name
		}
		if name == ".git" || w.ta.excluded(crel, name) {
			continue
		}
		cp := joinPath(p, name)
		it := treeItem{path: cp, target: w.base + "/" + crel}
		switch e.Type {
		case EntryDir:
			it.typ = EntryDir
			w.items = append(w.items, it)
			sub := ""
			if e.Git != ([20]byte{}) {
				sub = hex.EncodeToString(e.Git[:])
			}
			if err := w.walk(cp, crel, sub); err != nil {
				return err
			}
			continue
		case EntryLink:
			it.typ, it.to = EntryLink, e.To
			if errs != nil {
				it.err = errs[i]
			}
		case EntryFile, EntryExec:
			it.typ = e.Type
			switch {
			case !c.opts.LazyTree || e.Git == ([20]byte{}):
			case e.Known:
				it.key = "sha256:" + hex.EncodeToString(e.Sum[:])
			default:
				it.git = hex.EncodeToString(e.Git[:])
				if c.opts.KnownBlob != nil {
					it.key, _ = c.opts.KnownBlob(it.git)
				}
				if !fresh {
					// A resolution that did not need this entry:
					// resolve it again, this entry with it.
					es = slices.Clone(es)
					e, fresh = &es[i], true
					c.trees[hash] = es
					c.resolved++
				}
				it.ent = e
			}
		default:
			w.r.diag(errorf(&w.srng, "Invalid tree entry",
				"%s is neither a file, a directory nor a symlink (a git submodule?); exclude it or move it out of the tree.", cp))
			continue
		}
		w.items = append(w.items, it)
	}
	return nil
}

// readTreeFiles reads the files of a tree with a few workers: reading
// blobs out of git objects is most of the cost of a big tree.
func readTreeFiles(fsys fs.FS, items []treeItem, data [][]byte) {
	workers := min(runtime.GOMAXPROCS(0), 8)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(items) {
					return
				}
				if it := &items[i]; it.kind() == stepfmt.KindFile && it.key == "" {
					data[i], it.err = fs.ReadFile(fsys, it.path)
				}
			}
		}()
	}
	wg.Wait()
}

// treeStep adds the step of one entry; false stops the tree.
func (r *resource) treeStep(it *treeItem, data []byte, rng hcl.Range, ta treeAttrs) bool {
	c := r.sc.c
	if it.err != nil {
		r.diag(errorf(&rng, "Cannot read tree entry", "Reading %s failed: %s.", it.path, errText(it.err)))
		return true
	}
	if it.kind() == stepfmt.KindFile && it.key == "" {
		if err := lfsPointer(it.path, data); err != nil {
			r.diag(errorf(&rng, "Invalid tree entry", "%v.", err))
			return true
		}
	}
	st := r.newStep(it.kind(), it.target, rng)
	switch it.kind() {
	case stepfmt.KindDir:
		r.stamp(st, ta.dirMode, ta)
	case stepfmt.KindLink:
		if it.to == "" || strings.IndexByte(it.to, 0) >= 0 {
			r.diag(errorf(&rng, "Invalid tree entry", "Symlink %s has an empty or invalid target.", it.path))
			return true
		}
		st.Attrs = append(st.Attrs, stepfmt.Attr{Key: "to", Value: it.to})
		r.stamp(st, "", ta)
	case stepfmt.KindFile:
		mode := ta.mode
		if it.typ == EntryExec {
			mode = ta.execMode
		}
		key := c.treeEntry(it, data)
		if it.ent != nil {
			hex.Decode(it.ent.Sum[:], []byte(key[len("sha256:"):]))
			it.ent.Known = true
		}
		st.Attrs = append(st.Attrs, stepfmt.Attr{Key: "content", Value: key})
		r.stamp(st, mode, ta)
	}
	return r.add(st, it.path)
}

// stamp appends the tree's attributes in canonical order.
func (r *resource) stamp(st *stepfmt.Step, mode string, ta treeAttrs) {
	if mode != "" {
		st.Attrs = append(st.Attrs, stepfmt.Attr{Key: "mode", Value: mode})
	}
	st.Attrs = append(st.Attrs, stepfmt.Attr{Key: "owner", Value: ta.owner}, stepfmt.Attr{Key: "group", Value: ta.group})
	if ta.drift != "" {
		st.Attrs = append(st.Attrs, stepfmt.Attr{Key: "drift", Value: ta.drift})
	}
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

// treeEntry is the content key of a tree file: known by its git hash, or
// read and hashed (and then learned).
func (c *compiler) treeEntry(it *treeItem, data []byte) string {
	if it.key != "" {
		if _, ok := c.blobs[it.key]; !ok {
			if _, ok := c.refs[it.key]; !ok {
				c.refs[it.key] = it.path
			}
		}
		return it.key
	}
	key := blobKey(data)
	_, inBlobs := c.blobs[key]
	_, inRefs := c.refs[key]
	c.treeBlob(data, it.path, key)
	if c.opts.Read != nil && c.opts.LazyTree && !inBlobs && !inRefs {
		c.opts.Read(key, data)
	}
	if it.git != "" {
		c.learned[it.git] = key
	}
	return key
}
