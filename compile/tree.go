package compile

import (
	"io/fs"
	"runtime"
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
	items, ok := r.listTree(dir, root.Target, srng, ta)
	if !ok {
		return
	}
	// A window at a time: read in parallel, then made steps and dropped,
	// so a lazy compile never holds a whole tree's contents.
	const window = 512
	for lo := 0; lo < len(items); lo += window {
		win := items[lo:min(lo+window, len(items))]
		readTreeFiles(c.fsys, win)
		for i := range win {
			if !r.treeStep(&win[i], trng, ta) {
				return
			}
			win[i].data = nil
		}
	}
}

// treeItem is one entry of a tree: listed first, read in parallel, then
// turned into a step in walk order.
type treeItem struct {
	path, target string
	kind         stepfmt.Kind
	exec         bool
	to           string // symlink target
	data         []byte
	git          string // git object hash, when fsys reads git objects
	key          string // content key, when Options.KnownBlob knew git
	err          error
}

// listTree walks the tree's source in path order without reading files.
// It stops early once the step budget is spent; add reports that.
func (r *resource) listTree(dir, base string, srng hcl.Range, ta treeAttrs) ([]treeItem, bool) {
	c := r.sc.c
	var items []treeItem
	err := fs.WalkDir(c.fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == dir {
			return nil
		}
		if c.nsteps+len(items) >= c.opts.MaxSteps {
			return fs.SkipAll
		}
		name := d.Name()
		if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
			r.diag(errorf(&srng, "Invalid tree entry", "The repository directory %s holds an entry named %q, which no path can name.", dir, name))
			return fs.SkipAll
		}
		rel := p
		if dir != "." {
			rel = p[len(dir)+1:]
		}
		if name == ".git" || ta.excluded(rel, name) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		it := treeItem{path: p, target: base + "/" + rel}
		switch t := d.Type(); {
		case t.IsDir():
			it.kind = stepfmt.KindDir
		case t&fs.ModeSymlink != 0:
			it.kind = stepfmt.KindLink
			it.to, it.err = fs.ReadLink(c.fsys, p)
		case t.IsRegular():
			it.kind = stepfmt.KindFile
			if info, err := d.Info(); err == nil {
				it.exec = info.Mode()&0o111 != 0
				if h, ok := info.Sys().(string); ok && c.opts.LazyTree {
					it.git = h
					if c.opts.KnownBlob != nil {
						it.key, _ = c.opts.KnownBlob(h)
					}
				}
			}
		default:
			r.diag(errorf(&srng, "Invalid tree entry",
				"%s is neither a file, a directory nor a symlink (a git submodule?); exclude it or move it out of the tree.", p))
			return nil
		}
		items = append(items, it)
		return nil
	})
	if err != nil {
		r.diag(errorf(&srng, "Cannot read tree source", "Walking %s in the repository failed: %s.", dir, errText(err)))
		return nil, false
	}
	return items, true
}

// readTreeFiles reads the files of a tree with a few workers: reading
// blobs out of git objects is most of the cost of a big tree.
func readTreeFiles(fsys fs.FS, items []treeItem) {
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
				if it := &items[i]; it.kind == stepfmt.KindFile && it.key == "" {
					it.data, it.err = fs.ReadFile(fsys, it.path)
				}
			}
		}()
	}
	wg.Wait()
}

// treeStep adds the step of one entry; false stops the tree.
func (r *resource) treeStep(it *treeItem, rng hcl.Range, ta treeAttrs) bool {
	c := r.sc.c
	if it.err != nil {
		r.diag(errorf(&rng, "Cannot read tree entry", "Reading %s failed: %s.", it.path, errText(it.err)))
		return true
	}
	if it.kind == stepfmt.KindFile && it.key == "" {
		if err := lfsPointer(it.path, it.data); err != nil {
			r.diag(errorf(&rng, "Invalid tree entry", "%v.", err))
			return true
		}
	}
	st := r.newStep(it.kind, it.target, rng)
	switch it.kind {
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
		if it.exec {
			mode = ta.execMode
		}
		st.Attrs = append(st.Attrs, stepfmt.Attr{Key: "content", Value: c.treeEntry(it)})
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
func (c *compiler) treeEntry(it *treeItem) string {
	if it.key != "" {
		c.used = append(c.used, it.git)
		if _, ok := c.blobs[it.key]; !ok {
			if _, ok := c.refs[it.key]; !ok {
				c.refs[it.key] = it.path
			}
		}
		return it.key
	}
	key := c.treeBlob(it.data, it.path)
	if it.git != "" {
		c.learned[it.git] = key
	}
	return key
}
