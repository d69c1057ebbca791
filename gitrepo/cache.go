package gitrepo

import (
	"container/list"
	"sync"

	"github.com/go-git/go-git/v5/plumbing"
)

// objectCache is go-git's object cache for one reader: least recently used
// objects go first once their cost passes the budget. go-git's own LRU
// counts an object's content alone, so a budget of 8 MiB held every object
// of a tree of 100,000 small files (about 270 bytes each in memory, for
// 10 bytes of content); here each object also costs what holding it does.
// It keeps delta bases while trees are read, which is what it is for: a
// blob read for its content is copied out and not used again.
type objectCache struct {
	mu     sync.Mutex
	budget int64
	cost   int64
	ll     list.List
	byHash map[plumbing.Hash]*list.Element
}

// objectOverhead is what a cached object holds besides its content: the
// object, its list element and its map slot.
const objectOverhead = 192

func newObjectCache(budget int64) *objectCache {
	return &objectCache{budget: budget, byHash: map[plumbing.Hash]*list.Element{}}
}

func objectCost(o plumbing.EncodedObject) int64 { return o.Size() + objectOverhead }

// Put implements cache.Object.
func (c *objectCache) Put(o plumbing.EncodedObject) {
	cost := objectCost(o)
	if cost > c.budget {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	h := o.Hash()
	if e, ok := c.byHash[h]; ok {
		c.cost += cost - objectCost(e.Value.(plumbing.EncodedObject))
		e.Value = o
		c.ll.MoveToFront(e)
	} else {
		c.byHash[h] = c.ll.PushFront(o)
		c.cost += cost
	}
	for c.cost > c.budget {
		last := c.ll.Back()
		old := last.Value.(plumbing.EncodedObject)
		c.ll.Remove(last)
		delete(c.byHash, old.Hash())
		c.cost -= objectCost(old)
	}
}

// Get implements cache.Object.
func (c *objectCache) Get(h plumbing.Hash) (plumbing.EncodedObject, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byHash[h]
	if !ok {
		return nil, false
	}
	c.ll.MoveToFront(e)
	return e.Value.(plumbing.EncodedObject), true
}

// Clear implements cache.Object.
func (c *objectCache) Clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ll.Init()
	c.byHash = map[plumbing.Hash]*list.Element{}
	c.cost = 0
}
