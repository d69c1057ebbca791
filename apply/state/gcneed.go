package state

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
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
type needSet struct {
	keys map[string]struct{}
	buf  []byte // the file last read
	prev []byte // the step list read before it, whose keys are all in keys
}

var keyPrefix = []byte("sha256:")

// add adds the key of hex digits h.
func (n *needSet) add(h string) { n.keys[h] = struct{}{} }

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
		if _, ok := n.keys[string(text[:j])]; !ok {
			n.keys[string(text[:j])] = struct{}{}
		}
		text = text[j:]
	}
}

// read reads file whole into n.buf.
func (n *needSet) read(file string) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if int64(cap(n.buf)) < fi.Size()+1 {
		n.buf = make([]byte, 0, fi.Size()+fi.Size()/8+1)
	}
	b := n.buf[:0]
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		m, err := f.Read(b[len(b):cap(b)])
		b = b[:len(b)+m]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	n.buf = b
	return b, nil
}

// addApplied adds the keys the applied record at file names and returns
// its generation (0 when there is none yet).
func (n *needSet) addApplied(file string) (int, error) {
	text, err := n.read(file)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, missingApplied(file)
	}
	if err != nil {
		return 0, fmt.Errorf("state: %w", err)
	}
	head, _, _ := bytes.Cut(text, []byte("\n"))
	g, ok := bytes.CutPrefix(head, []byte(AppliedHeader))
	gen, aerr := strconv.Atoi(string(g))
	if !ok || aerr != nil || gen < 0 || !bytes.HasSuffix(text, []byte("\n")) {
		return 0, fmt.Errorf("state: the applied record is damaged: %s: not an applied record ending in a newline: gc removes nothing; run 'trail fsck'", file)
	}
	// A secret's image names its plaintext by its hash, which must not
	// keep a blob of that content (kind.Image.Blobs): its line is parsed.
	for {
		i := bytes.Index(text, secretAttr)
		if i < 0 {
			n.addText(text)
			return gen, nil
		}
		start := bytes.LastIndexByte(text[:i], '\n') + 1
		end := i + bytes.IndexByte(text[i:], '\n')
		n.addText(text[:start])
		r, err := parseRecord(string(text[start:end]))
		if err != nil {
			return 0, fmt.Errorf("state: the applied record is damaged: %s: %w: gc removes nothing; run 'trail fsck'", file, err)
		}
		for _, k := range append(r.Origin.Blobs(), r.Wrote.Blobs()...) {
			n.add(strings.TrimPrefix(k, "sha256:"))
		}
		text = text[end+1:]
	}
}

var secretAttr = []byte(" secret=")

// addSteps adds the keys step list file names; a list that is missing
// (an apply interrupted before it saved it) names none.
func (n *needSet) addSteps(file string) error {
	text, err := n.read(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("state: %w", err)
	}
	if len(text) > 0 && !bytes.HasSuffix(text, []byte("\n")) {
		return fmt.Errorf("state: %s: a step list cut short (no final newline): gc removes nothing while a kept step list is damaged: run 'trail fsck'", file)
	}
	n.addNew(text, n.prev)
	n.prev, n.buf = text, n.prev
	return nil
}

// addNew adds the keys of the lines of text that prev, whose keys are all
// added, lacks, walking both in step: a line equal to prev's at its place,
// or to the next one there (a line removed), adds nothing; a line whose
// next one is prev's at its place (a line inserted) or that differs (a
// line changed) adds its keys. Past more than one line inserted or
// removed in a row the walk finds no more equal lines and adds the rest
// whole: never fewer keys than a read of text alone.
func (n *needSet) addNew(text, prev []byte) {
	for len(text) > 0 {
		tl, pl := line(text), line(prev)
		switch {
		case bytes.Equal(tl, pl):
			prev = prev[len(pl):]
		case len(prev) > len(pl) && bytes.Equal(tl, line(prev[len(pl):])):
			prev = prev[len(pl):]
			prev = prev[len(line(prev)):]
		case len(text) > len(tl) && bytes.Equal(line(text[len(tl):]), pl):
			n.addText(tl)
		default:
			n.addText(tl)
			prev = prev[len(pl):]
		}
		text = text[len(tl):]
	}
}

// line returns the first line of text with its newline.
func line(text []byte) []byte {
	if i := bytes.IndexByte(text, '\n'); i >= 0 {
		return text[:i+1]
	}
	return text
}
