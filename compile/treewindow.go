package compile

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/hcl/v2"

	"trail/stepfmt"
)

// flush reads the window's files and makes its steps; false once the step
// budget is spent. The window's paths share one string, its targets
// another and its content keys a third, and its steps and their
// attributes are made in one allocation each.
func (w *treeWalk) flush() bool {
	win := w.win
	w.win = w.win[:0]
	defer w.handOver()
	if len(win) == 0 {
		return true
	}
	// Paths and targets apart: the paths serve the compile's result
	// (Refs, origins), which an apply drops before its engine runs; the
	// targets stay with the steps.
	b := w.buf[:0]
	for i := range win {
		it := &win[i]
		if it.dir.path != "." {
			b = append(append(b, it.dir.path...), '/')
		}
		b = append(b, it.name...)
	}
	s := string(b)
	for i := range win {
		it := &win[i]
		n := len(it.name)
		if it.dir.path != "." {
			n += len(it.dir.path) + 1
		}
		it.path, s = s[:n], s[n:]
	}
	b = b[:0]
	for i := range win {
		it := &win[i]
		b = append(append(b, w.base...), '/')
		if it.dir.rel != "" {
			b = append(append(b, it.dir.rel...), '/')
		}
		b = append(b, it.name...)
	}
	s = string(b)
	for i := range win {
		it := &win[i]
		n := len(w.base) + 1 + len(it.name)
		if it.dir.rel != "" {
			n += len(it.dir.rel) + 1
		}
		it.target, s = s[:n], s[n:]
	}
	c := w.r.sc.c
	steps, attrs := w.alloc(win)
	ok := true
	// A part of the window at a time, as much as windowBytes lets
	// readTreeFiles read: the whole window unless its files are big.
	for lo := 0; lo < len(win) && ok; {
		part, data := win[lo:], w.data[lo:len(win)]
		n := readTreeFiles(c.fsys, part, data)
		part, data = part[:n], data[:n]
		b = w.keys(part, data, b[:0])
		for i := range part {
			if ok = w.step(&part[i], data[i], &steps[lo+i], &attrs); !ok {
				w.stopped = true
				break
			}
		}
		// Cleared whole, not an item at a time, which cost a write
		// barrier per pointer while the collector ran.
		clear(data)
		lo += n
	}
	w.buf = b
	clear(win)
	return ok
}

// handOver hands the trees done to Options.Resolved and lets go of them.
// One resolved again since (cloned, to resolve an entry it did not know)
// is handed once that walk is done.
func (w *treeWalk) handOver() {
	c := w.r.sc.c
	for _, d := range w.done {
		es, ok := c.trees[d.hash]
		if ok && len(es) == len(d.es) && (len(es) == 0 || &es[0] == &d.es[0]) {
			delete(c.trees, d.hash)
			c.opts.Resolved(d.hash, es)
		}
	}
	clear(w.done)
	w.done = w.done[:0]
}

// keys sets the content key of each file of the window that has none,
// from its sum or its content, in one string: an LFS pointer gets none.
// b is scratch, returned for reuse.
func (w *treeWalk) keys(win []treeItem, data [][]byte, b []byte) []byte {
	var hexed [64]byte
	first := len(b)
	for i := range win {
		it := &win[i]
		if it.kind() != stepfmt.KindFile || it.key != "" || it.err != nil {
			continue
		}
		if !it.known {
			if lfsPointer(it.path, data[i]) != nil {
				continue
			}
			it.sum, it.read = sha256.Sum256(data[i]), true
		}
		hex.Encode(hexed[:], it.sum[:])
		b = append(append(b, blobPrefix...), hexed[:]...)
		it.keyed = true
	}
	s := string(b[first:])
	for i := range win {
		if it := &win[i]; it.keyed {
			it.key, s = s[:len(blobPrefix)+64], s[len(blobPrefix)+64:]
		}
	}
	return b
}

const blobPrefix = "sha256:"

// alloc makes the window's steps and their attributes, each in one slice.
func (w *treeWalk) alloc(win []treeItem) ([]stepfmt.Step, []stepfmt.Attr) {
	n := 0
	for i := range win {
		n += w.attrCount(&win[i])
	}
	return make([]stepfmt.Step, len(win)), make([]stepfmt.Attr, 0, n)
}

// attrCount is how many attributes the item's step has.
func (w *treeWalk) attrCount(it *treeItem) int {
	n := 2 // owner, group
	if w.ta.drift != "" {
		n++
	}
	switch it.kind() {
	case stepfmt.KindDir:
		if w.ta.dirMode != "" {
			n++
		}
	case stepfmt.KindLink:
		n++
	default:
		n += 2
	}
	return n
}

// gitBlobFS reads a blob by its git hash (gitrepo's tree FS).
type gitBlobFS interface {
	ReadGitBlob(h [20]byte) ([]byte, error)
}

// gitTreeFS lists a tree and reads its blobs by their git hashes
// (gitrepo's tree FS): fn is given each entry's place i of the n, name,
// mode (as its FileInfo's) and git hash, in name order.
type gitTreeFS interface {
	gitBlobFS
	ListGitTree(h [20]byte, fn func(i, n int, name string, mode fs.FileMode, id [20]byte)) error
}

// readTreeFiles reads the files of a tree with a few workers: reading
// blobs out of git objects is most of the cost of a big tree. A file whose
// git hash is known is read by it, not by its path. It reads the items
// from the first until what it read passes windowBytes (a worker takes no
// next item then) and says how many it read.
func readTreeFiles(fsys fs.FS, items []treeItem, data [][]byte) int {
	byHash, _ := fsys.(gitBlobFS)
	workers := min(runtime.GOMAXPROCS(0), 8)
	var next, held atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for held.Load() < windowBytes {
				i := int(next.Add(1)) - 1
				if i >= len(items) {
					return
				}
				it := &items[i]
				switch {
				case !it.unread():
				case byHash != nil && it.blob != [20]byte{}:
					var err error
					if data[i], err = byHash.ReadGitBlob(it.blob); err != nil {
						it.err = &fs.PathError{Op: "read", Path: it.path, Err: err}
					}
				default:
					data[i], it.err = fs.ReadFile(fsys, it.path)
				}
				held.Add(int64(len(data[i])))
			}
		}()
	}
	wg.Wait()
	return min(int(next.Load()), len(items))
}

// step makes and adds the step of one entry into st, its attributes from
// attrs; false stops the tree.
func (w *treeWalk) step(it *treeItem, data []byte, st *stepfmt.Step, attrs *[]stepfmt.Attr) bool {
	r, ta := w.r, w.ta
	c := r.sc.c
	if it.err != nil {
		r.diag(errorf(w.rng(), "Cannot read tree entry", "Reading %s failed: %s.", it.path, errText(it.err)))
		return true
	}
	if it.kind() == stepfmt.KindFile && it.key == "" {
		// Only an LFS pointer has no key by now.
		r.diag(errorf(w.rng(), "Invalid tree entry", "%v.", lfsPointer(it.path, data)))
		return true
	}
	t, err := stepfmt.CanonTarget(it.kind(), it.target)
	if err != nil {
		r.diag(errorf(w.rng(), "Invalid "+r.kd.target, "%s %q: %v.", r.kd.block, it.target, err))
		t = it.target
	}
	n := w.attrCount(it)
	a := (*attrs)[len(*attrs) : len(*attrs) : len(*attrs)+n]
	*attrs = (*attrs)[:len(*attrs)+n]
	*st = stepfmt.Step{Kind: it.kind(), Target: t, Src: r.src, Attrs: a}
	switch it.kind() {
	case stepfmt.KindDir:
		r.stamp(st, ta.dirMode, ta)
	case stepfmt.KindLink:
		if it.to == "" || strings.IndexByte(it.to, 0) >= 0 {
			r.diag(errorf(w.rng(), "Invalid tree entry", "Symlink %s has an empty or invalid target.", it.path))
			return true
		}
		st.Attrs = append(st.Attrs, stepfmt.Attr{Key: "to", Value: it.to})
		r.stamp(st, "", ta)
	case stepfmt.KindFile:
		mode := ta.mode
		if it.typ == EntryExec {
			mode = ta.execMode
		}
		c.treeEntry(it, data)
		st.Attrs = append(st.Attrs, stepfmt.Attr{Key: "content", Value: it.key})
		r.stamp(st, mode, ta)
	}
	return r.add(st, it.path)
}

// rng is a copy of the tree's range for a diagnostic: one copy taken for
// all of step's escaped, which allocated it for every step.
func (w *treeWalk) rng() *hcl.Range {
	rng := w.trng
	return &rng
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
