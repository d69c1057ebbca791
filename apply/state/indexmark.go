package state

import "slices"

// A look at every managed target (a drift check) marks each target's
// entry, and drops those not marked (KeepMarked): the entries of paths no
// longer managed. Marking an index not parsed marks the lines of its text
// (lineMarks), which the look finds in their order: when every line is
// marked, as it is when nothing stopped being managed, nothing is dropped
// and the index is never parsed whole (at 100,000 files that parse was a
// tenth of a status's CPU).

// marksText reports whether marks go to the text's lines.
func (ix *Index) marksText() bool { return ix.text != nil && len(ix.runs) == 0 && !ix.spilling }

// Mark notes that p is managed, for KeepMarked.
func (ix *Index) Mark(p string) {
	if !ix.marksText() {
		ix.parsed()
		if e := ix.find(p); e != nil {
			e.marked = true
		}
		return
	}
	if i, ok := ix.at[p]; ok {
		ix.added[i].marked = true
	}
	if i, ok := ix.text.lineOf(p); ok {
		if ix.lineMarks == nil {
			ix.lineMarks = make([]bool, ix.text.n())
		}
		ix.lineMarks[i] = true
	}
}

// KeepMarked drops every entry not marked since the last KeepMarked (or
// KeepAll), and forgets the marks: what a look at every managed target
// does without a set of them all.
func (ix *Index) KeepMarked() {
	if ix.marksText() {
		all := len(ix.lineMarks) == ix.text.n() && !slices.Contains(ix.lineMarks, false)
		for i := range ix.added {
			all = all && ix.added[i].marked
		}
		if all {
			ix.lineMarks = nil
			for i := range ix.added {
				ix.added[i].marked = false
			}
			return
		}
		// Some entry goes: the index is parsed, and the entries of the
		// marked lines marked.
		var keep []string
		for i, m := range ix.lineMarks {
			if m {
				keep = append(keep, ix.text.path(i))
			}
		}
		ix.lineMarks = nil
		ix.parsed()
		for _, p := range keep {
			if e := ix.find(p); e != nil {
				e.marked = true
			}
		}
	}
	ix.lineMarks = nil
	ix.parsed()
	ix.merge()
	kept := ix.ents[:0]
	for _, e := range ix.ents {
		if e.marked {
			e.marked = false
			kept = append(kept, e)
		}
	}
	if len(kept) < len(ix.ents) {
		clear(ix.ents[len(kept):])
		ix.ents = kept
		ix.Dirty = true
	}
}

// KeepAll forgets the marks and keeps every entry.
func (ix *Index) KeepAll() {
	ix.lineMarks = nil
	ix.parsed()
	ix.merge()
	for i := range ix.ents {
		ix.ents[i].marked = false
	}
}

// lineOf returns the line of p's entry: the line found last, or the one
// after it, else where a search finds it. A path that sorts between those
// two lines has none, without a search: a directory's, among the files
// of a tree looked at in their order.
func (t *indexText) lineOf(p string) (int, bool) {
	n := t.n()
	if i := t.next - 1; i >= 0 && i < n {
		if l, err := t.lineSeq(i); err == nil && linePathIs(l, p) {
			return i, true
		}
	}
	after := t.next >= n // p sorts after the line found last
	if i := t.next; i < n {
		l, err := t.lineSeq(i)
		if err == nil && linePathIs(l, p) {
			t.next = i + 1
			return i, true
		}
		after = err == nil && comparePath(l, p) > 0
	}
	if after && (t.next == 0 || t.next <= n && t.lineBefore(t.next-1, p)) {
		return 0, false
	}
	return t.search(p)
}

// lineBefore reports whether line i's path sorts before p.
func (t *indexText) lineBefore(i int, p string) bool {
	l, err := t.lineSeq(i)
	return err == nil && comparePath(l, p) < 0
}

// comparePath compares the path of an entry's line with p, as
// strings.Compare does, without making a string of a path not quoted.
func comparePath(l []byte, p string) int {
	raw := pathField(l)
	if len(raw) == 0 || raw[0] == '"' {
		lp := linePath(l)
		switch {
		case lp == p:
			return 0
		case lp < p:
			return -1
		}
		return 1
	}
	switch {
	case string(raw) == p:
		return 0
	case string(raw) < p:
		return -1
	}
	return 1
}
