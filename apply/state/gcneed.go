package state

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
)

// needSet is the store keys a gc keeps, by their hex digits. It reads the
// applied record and the kept step lists as text, taking every "sha256:"
// and the hex digits after it wherever it appears: a key is written
// nowhere else and in no other form, so the text names at least what
// their parse would, at a tenth of a parse's cost (at 100,000 files a
// step list is 15 MB). Only a record's line with a secret is parsed.
//
// Consecutive step lists differ in a few lines (a pull of one changed
// file changes one), so a kept list is read against the one read before
// it: a line found there, at its place or one line off, names nothing new.
// Both are read a line at a time, never whole.
//
// A key of 64 hex digits, what the store names every blob by, is held as
// its 32 bytes (about 40 bytes a key in the map, where a string key took
// over 100); any other text after "sha256:" is held as it is, so that the
// set is exactly the text's. The applied record too is read a line at a
// time.
type needSet struct {
	keys            map[[32]byte]struct{}
	odd             map[string]struct{} // keys that are not 64 lowercase hex digits
	buf             []byte              // the applied record, while it is read
	prev            string              // the step list read before, whose keys are all in keys
	text, prevLines lines               // their readers, reused from list to list
}

func newNeedSet() *needSet {
	return &needSet{keys: map[[32]byte]struct{}{}, odd: map[string]struct{}{}}
}

var keyPrefix = []byte("sha256:")

// sum returns the 32 bytes whose lowercase hex digits h is, and false
// when h is not that.
func sum[S string | []byte](h S) (k [32]byte, ok bool) {
	if len(h) != 64 {
		return k, false
	}
	for i := range 32 {
		a, b := unhex(h[2*i]), unhex(h[2*i+1])
		if a > 15 || b > 15 {
			return k, false
		}
		k[i] = a<<4 | b
	}
	return k, true
}

// unhex is the value of lowercase hex digit c, or 255.
func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return 255
}

// add adds the key of hex digits h.
func (n *needSet) add(h string) {
	if k, ok := sum(h); ok {
		n.keys[k] = struct{}{}
		return
	}
	n.odd[h] = struct{}{}
}

// has reports whether the set holds the key of hex digits h.
func (n *needSet) has(h string) bool {
	if k, ok := sum(h); ok {
		_, ok = n.keys[k]
		return ok
	}
	_, ok := n.odd[h]
	return ok
}

// addText adds every key text names.
func (n *needSet) addText(text []byte) {
	for {
		i := bytes.Index(text, keyPrefix)
		if i < 0 {
			return
		}
		text = text[i+len(keyPrefix):]
		j := 0
		for j < len(text) && (text[j] >= '0' && text[j] <= '9' || text[j] >= 'a' && text[j] <= 'f') {
			j++
		}
		if k, ok := sum(text[:j]); ok {
			n.keys[k] = struct{}{}
		} else if _, ok := n.odd[string(text[:j])]; !ok {
			n.odd[string(text[:j])] = struct{}{}
		}
		text = text[j:]
	}
}

// addApplied adds the keys the applied record at file names and returns
// its generation (0 when there is none yet). It reads the record a line
// at a time.
func (n *needSet) addApplied(file string) (int, error) {
	f, err := openApplied(file)
	if f == nil {
		return 0, err
	}
	defer f.Close()
	damaged := func() error {
		return fmt.Errorf("state: the applied record is damaged: %s: not an applied record ending in a newline: gc removes nothing; run 'trail fsck'", file)
	}
	l := &n.text
	l.reset(f)
	gen, ok := appliedGeneration(string(l.cur))
	if !ok {
		return 0, damaged()
	}
	for ; len(l.cur) > 0; l.next() {
		// A secret's image names its plaintext by its hash, which must
		// not keep a blob of that content (kind.Image.Blobs): its line
		// is parsed.
		if !bytes.Contains(l.cur, secretAttr) {
			n.addText(l.cur)
			continue
		}
		r, err := parseRecord(string(bytes.TrimSuffix(l.cur, []byte("\n"))))
		if err != nil {
			return 0, fmt.Errorf("state: the applied record is damaged: %s: %w: gc removes nothing; run 'trail fsck'", file, err)
		}
		for _, k := range append(r.Origin.Blobs(), r.Wrote.Blobs()...) {
			n.add(strings.TrimPrefix(k, "sha256:"))
		}
	}
	if l.err != nil {
		return 0, fmt.Errorf("state: %w", l.err)
	}
	if !l.nl {
		return 0, damaged()
	}
	return gen, nil
}

var secretAttr = []byte(" secret=")

// addSteps adds the keys step list file names; a list that is missing
// (an apply interrupted before it saved it) names none.
func (n *needSet) addSteps(file string) error {
	f, err := os.Open(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("state: %w", err)
	}
	defer f.Close()
	text, prev := &n.text, &n.prevLines
	text.reset(f)
	prev.reset(nil)
	if n.prev != "" {
		pf, err := os.Open(n.prev)
		if err != nil {
			return fmt.Errorf("state: %w", err)
		}
		defer pf.Close()
		prev.reset(pf)
	}
	if err := n.addNew(text, prev); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	if text.any && !text.nl {
		return fmt.Errorf("state: %s: a step list cut short (no final newline): gc removes nothing while a kept step list is damaged: run 'trail fsck'", file)
	}
	n.prev = file
	return nil
}

// addNew adds the keys of the lines of text that prev, whose keys are all
// added, lacks, walking both in step: a line equal to prev's at its place,
// or to the next one there (a line removed), adds nothing; a line whose
// next one is prev's at its place (a line inserted) or that differs (a
// line changed) adds its keys. Past more than one line inserted or
// removed in a row the walk finds no more equal lines and adds the rest
// whole: never fewer keys than a read of text alone.
func (n *needSet) addNew(text, prev *lines) error {
	for len(text.cur) > 0 {
		tl, pl := text.cur, prev.cur
		switch {
		case bytes.Equal(tl, pl):
			prev.next()
		case len(prev.ahead) > 0 && bytes.Equal(tl, prev.ahead):
			prev.next()
			prev.next()
		case len(text.ahead) > 0 && bytes.Equal(text.ahead, pl):
			n.addText(tl)
		default:
			n.addText(tl)
			prev.next()
		}
		text.next()
		if text.err != nil {
			return text.err
		}
		if prev.err != nil {
			return prev.err
		}
	}
	return nil
}

// lines reads a file a line at a time (each with its newline, the last
// perhaps without), holding the line at hand and the one after it.
type lines struct {
	r          *bufio.Reader
	cur, ahead []byte
	spare      []byte
	nl         bool // the last line read ends in a newline
	any        bool // a line was read
	last       bool // the file is read to its end
	err        error
}

// reset reads r (nothing when nil) from its first line.
func (l *lines) reset(r io.Reader) {
	l.cur, l.ahead, l.spare = l.cur[:0], l.ahead[:0], l.spare[:0]
	l.nl, l.any, l.err, l.last = false, false, nil, r == nil
	if r != nil && l.r == nil {
		l.r = bufio.NewReaderSize(r, 64<<10)
	} else if r != nil {
		l.r.Reset(r)
	}
	l.next()
	l.next()
}

// next moves to the next line: cur is empty past the last.
func (l *lines) next() {
	l.cur, l.ahead, l.spare = l.ahead, l.spare[:0], l.cur
	for !l.last {
		b, err := l.r.ReadSlice('\n')
		l.ahead = append(l.ahead, b...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF {
			l.last = true
		} else if err != nil {
			l.err, l.last = err, true
		}
		break
	}
	if len(l.ahead) > 0 {
		l.nl, l.any = l.ahead[len(l.ahead)-1] == '\n', true
	}
}
