package apply

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"sort"

	"trail/apply/kind"
)

// undoList lists the journaled changes in order: each one's place, 4
// bytes, with the undo images that are not a bare absent one kept apart
// as their text (what the journal holds of them), read back when an undo
// needs them. A first apply's are all bare: 100,000 changes take 0.4 MB,
// where a place and a pointer each took 1.6. A take-over's are all files:
// 100,000 images held parsed took about 28 MB until the apply's end, their
// plain text with an index map 24 MB (the largest holder of its peak
// heap). So the text is deflated in blocks of undoBlock bytes: each image
// costs its compressed text (its content key's hex is most of it) and 8
// bytes of index. Reading back inflates a block, the last one kept, since
// an undo reads the images in order.
type undoList struct {
	at []int32
	// keys are the indexes in at of the kept images, ascending; ends[k]
	// is where the k-th kept image ends in the text of them all.
	keys, ends []int32
	// blocks hold the text deflated, block b starting at starts[b];
	// pend is the text after the last block, not yet deflated.
	blocks [][]byte
	starts []int32
	pend   []byte
	done   int32 // the text the blocks hold
	zw     *flate.Writer
	// amended holds the images an amend set ("" for a bare absent one),
	// over those in keys (an amend is rare: a tool kind's change).
	amended map[int]string
	// cache is the block last inflated, index cached.
	cache  []byte
	cached int
}

// undoBlock is the text deflated at once: large enough to compress well,
// small enough that one inflated for a read back costs little.
const undoBlock = 64 << 10

func (l *undoList) add(u journaled) {
	if u.img != nil {
		l.keep(len(l.at), *u.img)
	}
	l.at = append(l.at, u.i)
}

func (l *undoList) keep(j int, img kind.Image) {
	l.pend = append(l.pend, img.String()...)
	l.keys = append(l.keys, int32(j))
	l.ends = append(l.ends, l.done+int32(len(l.pend)))
	if len(l.pend) >= undoBlock {
		l.flush()
	}
}

// flush deflates the pending text into a block of its own size.
func (l *undoList) flush() {
	var buf bytes.Buffer
	if l.zw == nil {
		l.zw, _ = flate.NewWriter(&buf, flate.BestSpeed)
	} else {
		l.zw.Reset(&buf)
	}
	// Writes to a bytes.Buffer do not fail.
	_, _ = l.zw.Write(l.pend)
	_ = l.zw.Close()
	l.blocks = append(l.blocks, bytes.Clone(buf.Bytes()))
	l.starts = append(l.starts, l.done)
	l.done += int32(len(l.pend))
	l.pend = l.pend[:0]
}

func (l *undoList) len() int { return len(l.at) }

// kept returns how many images the list keeps.
func (l *undoList) kept() int {
	n := 0
	for j := range l.at {
		if s, ok := l.text(j); !ok || s != "" {
			n++
		}
	}
	return n
}

// place returns the plan's place of the j-th journaled change.
func (l *undoList) place(j int) int32 { return l.at[j] }

// get returns the j-th journaled change.
func (l *undoList) get(j int) (journaled, error) {
	s, err := l.image(j)
	if err != nil || s == "" {
		return journaled{l.at[j], nil}, err
	}
	img, err := kind.ParseImage(s)
	if err != nil {
		return journaled{}, fmt.Errorf("internal error: the undo image of change %d: %w", l.at[j]+1, err)
	}
	return journaled{l.at[j], &img}, nil
}

// text returns the j-th change's image text ("" for a bare one) if the
// list holds it without inflating a block, and whether it does.
func (l *undoList) text(j int) (string, bool) {
	if s, ok := l.amended[j]; ok {
		return s, true
	}
	k := sort.Search(len(l.keys), func(k int) bool { return l.keys[k] >= int32(j) })
	if k == len(l.keys) || l.keys[k] != int32(j) {
		return "", true
	}
	return "x", false
}

// image returns the j-th change's image text, "" for a bare one.
func (l *undoList) image(j int) (string, error) {
	if s, ok := l.text(j); ok {
		return s, nil
	}
	k := sort.Search(len(l.keys), func(k int) bool { return l.keys[k] >= int32(j) })
	end := l.ends[k]
	start := int32(0)
	if k > 0 {
		start = l.ends[k-1]
	}
	if fl := l.done; start >= fl {
		return string(l.pend[start-fl : end-fl]), nil
	}
	b := sort.Search(len(l.starts), func(b int) bool { return l.starts[b] > start }) - 1
	if l.cache == nil || l.cached != b {
		t, err := io.ReadAll(flate.NewReader(bytes.NewReader(l.blocks[b])))
		if err != nil {
			return "", fmt.Errorf("internal error: the undo images of block %d: %w", b, err)
		}
		l.cache, l.cached = t, b
	}
	return string(l.cache[start-l.starts[b] : end-l.starts[b]]), nil
}

// set replaces the j-th journaled change.
func (l *undoList) set(j int, u journaled) {
	l.at[j] = u.i
	if l.amended == nil {
		l.amended = make(map[int]string)
	}
	if u.img == nil {
		l.amended[j] = ""
		return
	}
	l.amended[j] = u.img.String()
}
