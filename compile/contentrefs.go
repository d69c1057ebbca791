package compile

import (
	"iter"
	"sync"
)

// Refs says where to read again the tree contents a compile with
// LazyTree did not hold: each tree entry's content key and repository
// path, in walk order. A key two entries share is named twice; Path gives
// the last one's path. A list, not a map: a pull's compile names its
// 100,000 unchanged files here, and a map's insert for each (a cache miss
// in a table of megabytes) was the largest part of making their steps,
// while a map is needed only to read a content the store lacks. The nil
// Refs names none.
type Refs struct {
	refs  []contentRef
	once  sync.Once
	index map[string]int32 // key → its last entry, made by the first Path
}

type contentRef struct{ key, path string }

// Len is how many entries Refs names: a content two files share, twice.
func (r *Refs) Len() int {
	if r == nil {
		return 0
	}
	return len(r.refs)
}

// All yields each entry's key and path, in walk order.
func (r *Refs) All() iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		if r == nil {
			return
		}
		for _, e := range r.refs {
			if !yield(e.key, e.path) {
				return
			}
		}
	}
}

// Path is the repository path of the last entry with key.
func (r *Refs) Path(key string) (string, bool) {
	if r == nil {
		return "", false
	}
	r.once.Do(func() {
		r.index = make(map[string]int32, len(r.refs))
		for i, e := range r.refs {
			r.index[e.key] = int32(i)
		}
	})
	i, ok := r.index[key]
	if !ok {
		return "", false
	}
	return r.refs[i].path, true
}

// Map is Refs as a map from each key to its path (Path's), for tests and
// small lists.
func (r *Refs) Map() map[string]string {
	m := map[string]string{}
	for k, p := range r.All() {
		m[k] = p
	}
	return m
}

// addRef names a tree entry's content, unless Blobs holds it.
func (c *compiler) addRef(key, path string) {
	if !c.inBlobs(key) {
		c.refs = append(c.refs, contentRef{key, path})
	}
}

// refsResult returns the compile's Refs: contents Blobs came to hold after
// an entry named them are left out, as Blobs holds them.
func (c *compiler) refsResult() *Refs {
	refs := c.refs
	if len(c.blobs) > 0 {
		refs = refs[:0]
		for _, e := range c.refs {
			if !c.inBlobs(e.key) {
				refs = append(refs, e)
			}
		}
	}
	return &Refs{refs: refs}
}
