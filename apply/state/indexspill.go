package state

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// An apply that writes many files puts an entry for each (Reserve says
// how many will come): held in memory until the save, 100,000 of them
// took 11 MB at the apply's end, where its heap is highest. Instead, each
// minMerge entries put are written sorted to a run, an unlinked file in
// the index's directory, found by a search of its lines while the apply
// lasts, and Save merges the runs with the index's file as it writes it.
// What needs every entry in memory (Mark, Keep, Len) reads the runs back
// first (unspill); a run that cannot be written leaves the entries in
// memory, as before.

// indexRun is a run of entries spilled to a file, sorted by path; lo and
// hi are its first and last paths.
type indexRun struct {
	t      *indexText
	lo, hi string
}

// spill writes the entries put since the last spill to a new run.
func (ix *Index) spill() {
	f, err := os.CreateTemp(filepath.Dir(ix.File), ".index-run-")
	if err != nil {
		ix.spilling = false
		return
	}
	os.Remove(f.Name())
	slices.SortFunc(ix.added, func(a, b indexEntry) int { return strings.Compare(a.path, b.path) })
	const head = "TRAIL-INDEX v1 asof=0\n"
	t := &indexText{f: f, lines: make([]int64, 1, len(ix.added)+1)}
	t.lines[0] = int64(len(head))
	b := bufio.NewWriterSize(f, 64<<10)
	b.WriteString(head)
	off := t.lines[0]
	var line []byte
	for i := range ix.added {
		line = appendIndexLine(line[:0], &ix.added[i])
		b.Write(line)
		off += int64(len(line))
		t.lines = append(t.lines, off)
	}
	if err := b.Flush(); err != nil {
		f.Close()
		ix.spilling = false
		return
	}
	ix.runs = append(ix.runs, &indexRun{t: t, lo: ix.added[0].path, hi: ix.added[len(ix.added)-1].path})
	clear(ix.added)
	ix.added = ix.added[:0]
	clear(ix.at)
}

// findRun returns p's entry in the newest run that has one, as a copy.
func (ix *Index) findRun(p string) *indexEntry {
	for i := len(ix.runs) - 1; i >= 0; i-- {
		r := ix.runs[i]
		if p < r.lo || p > r.hi {
			continue
		}
		l, ok := r.t.find(p)
		if !ok {
			j, found := r.t.search(p)
			if !found {
				continue
			}
			var err error
			if l, err = r.t.line(j); err != nil {
				continue
			}
			r.t.next = j + 1
		}
		e, _, err := parseIndexFields(l)
		if err != nil {
			continue
		}
		e.path, e.fresh = p, true
		ix.found = e
		return &ix.found
	}
	return nil
}

// unspill stops spilling and reads the runs back into memory, oldest
// first, then what was put since, each replacing an entry of its path.
func (ix *Index) unspill() {
	ix.spilling = false
	if len(ix.runs) == 0 {
		return
	}
	runs, added := ix.runs, ix.added
	ix.runs, ix.added = nil, nil
	clear(ix.at)
	for _, r := range runs {
		p, err := r.t.parse()
		r.t.close()
		if err != nil {
			continue
		}
		for _, e := range p.ents {
			e.fresh = true
			ix.put(e)
		}
	}
	for _, e := range added {
		ix.put(e)
	}
}

// closeRuns lets go of the runs' files.
func (ix *Index) closeRuns() {
	for _, r := range ix.runs {
		r.t.close()
	}
	ix.runs = nil
}

// mergeSource is one sorted source of a merged save: its current path
// and line (newline and all); next moves to the following one.
type mergeSource struct {
	path string
	line []byte
	next func(*mergeSource) bool
	done bool
}

// entriesSource yields the lines of sorted entries.
func entriesSource(ents []indexEntry) *mergeSource {
	i := 0
	return &mergeSource{next: func(s *mergeSource) bool {
		if i >= len(ents) {
			return false
		}
		s.path, s.line = ents[i].path, appendIndexLine(s.line[:0], &ents[i])
		i++
		return true
	}}
}

// textSource yields the lines of a file's entries as they are, in their
// order, leaving out a damaged one, and one whose ctime is at or after
// racy (Lookup does not trust it: see Index.dropRacy), when racy is set.
func textSource(t *indexText, racy int64) *mergeSource {
	start, end := t.lines[0], t.lines[len(t.lines)-1]
	r := bufio.NewReaderSize(io.NewSectionReader(t.f, start, end-start), 64<<10)
	var buf []byte
	return &mergeSource{next: func(s *mergeSource) bool {
		for {
			l, err := r.ReadSlice('\n')
			if err == bufio.ErrBufferFull {
				buf = append(buf[:0], l...)
				for err == bufio.ErrBufferFull {
					l, err = r.ReadSlice('\n')
					buf = append(buf, l...)
				}
				l = buf
			}
			if err != nil {
				return false
			}
			if racy != 0 {
				if e, _, err := parseIndexFields(l[:len(l)-1]); err != nil || e.ctime >= racy {
					continue
				}
			}
			if p := linePath(l[:len(l)-1]); p != "" {
				s.path, s.line = p, l
				return true
			}
		}
	}}
}

// saveMerged writes the entries of the index's sources merged by path:
// what was put since the last spill, then the runs newest first, then
// the index as loaded, less its entries racily clean (the file is
// written whole, as of now); for a path in several, the first of them
// wins.
func (ix *Index) saveMerged(b *bufio.Writer) error {
	slices.SortFunc(ix.added, func(a, b indexEntry) int { return strings.Compare(a.path, b.path) })
	srcs := []*mergeSource{entriesSource(ix.added)}
	for i := len(ix.runs) - 1; i >= 0; i-- {
		srcs = append(srcs, textSource(ix.runs[i].t, 0))
	}
	if ix.text != nil {
		srcs = append(srcs, textSource(ix.text, ix.AsOf-int64(RacyWindow)))
	} else {
		srcs = append(srcs, entriesSource(ix.ents))
	}
	for _, s := range srcs {
		s.done = !s.next(s)
	}
	for {
		var min *mergeSource
		for _, s := range srcs {
			if !s.done && (min == nil || s.path < min.path) {
				min = s
			}
		}
		if min == nil {
			return b.Flush()
		}
		if _, err := b.Write(min.line); err != nil {
			return err
		}
		p := min.path
		for _, s := range srcs {
			if !s.done && s.path == p {
				s.done = !s.next(s)
			}
		}
	}
}

// afterMerged makes the index the file just saved, loaded again, its
// runs and entries let go.
func (ix *Index) afterMerged() {
	ix.closeRuns()
	ix.text.close()
	ix.ents, ix.added = nil, nil
	clear(ix.at)
	ix.text, _ = openIndexText(ix.File)
	ix.finds, ix.hint = 0, 0
}
