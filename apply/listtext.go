package apply

import (
	"bufio"
	"bytes"
	"hash/maphash"
	"io"
	"os"
	"slices"

	"trail/apply/state"
	"trail/stepfmt"
)

// listText is the list about to be applied, printed once and compared
// with the applied step list as it is printed: the comparison tells the
// no-op path (same), the parse of the applied list shares what is
// unchanged by it (sharedParse), and the text is the new generation's
// step list (pending). Printing 100,000 steps is most of what the three
// cost, and each printed the list apart.
type listText struct {
	// same is set when the list prints as the applied list's steps,
	// line for line; nothing is written then.
	same bool
	// prefix is how many steps print as the applied list's first lines.
	prefix int
	// sums[i], for i >= prefix, is 128 bits of step i's printed line,
	// under seeds unique to this process; none when nothing was applied.
	sums  []lineSum
	seeds [2]maphash.Seed
	// pending is the list's text, nil when same.
	pending *state.PendingSteps
}

type lineSum [2]uint64

func (t *listText) sum(line []byte) lineSum {
	return lineSum{maphash.Bytes(t.seeds[0], line), maphash.Bytes(t.seeds[1], line)}
}

// discard removes the text when no generation saved it.
func (t *listText) discard() {
	if t != nil {
		t.pending.Discard()
	}
}

// printList prints l once, compared line by line with the applied step
// list in file ("" when none): while they agree it only compares; from
// the first step that differs it writes the text to a pending list in
// genDir, the lines they agreed on copied from file as they are.
func printList(file, genDir string, l *stepfmt.List) (*listText, error) {
	t := &listText{seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}}
	var old *os.File
	var r *bufio.Reader
	var head int64
	if file != "" {
		if f, err := os.Open(file); err == nil {
			defer f.Close()
			old, r = f, bufio.NewReaderSize(f, 64<<10)
			line, err := r.ReadSlice('\n')
			for err == bufio.ErrBufferFull {
				head += int64(len(line))
				line, err = r.ReadSlice('\n')
			}
			head += int64(len(line))
			if err != nil && err != io.EOF {
				r = nil
			}
		}
	}
	var matched int64 // bytes of the applied list's steps matched
	start := func() error {
		p, err := state.NewPendingSteps(genDir)
		if err != nil {
			return err
		}
		t.pending = p
		var b bytes.Buffer
		stepfmt.AppendHeader(&b, l.Header)
		if _, err := p.Write(b.Bytes()); err != nil {
			return err
		}
		if matched > 0 {
			return p.CopyRange(old, head, matched)
		}
		return nil
	}
	fail := func(err error) (*listText, error) {
		t.discard()
		return nil, err
	}
	comparing := r != nil
	var b bytes.Buffer
	var got []byte
	for i, s := range l.Steps {
		b.Reset()
		stepfmt.AppendStep(&b, s, true)
		b.WriteByte('\n')
		if comparing {
			got = slices.Grow(got[:0], b.Len())[:b.Len()]
			if _, err := io.ReadFull(r, got); err == nil && bytes.Equal(got, b.Bytes()) {
				matched += int64(b.Len())
				t.prefix = i + 1
				continue
			}
			comparing = false
		}
		if t.pending == nil {
			if err := start(); err != nil {
				return fail(err)
			}
			if file != "" {
				t.sums = make([]lineSum, len(l.Steps))
			}
		}
		if t.sums != nil {
			t.sums[i] = t.sum(b.Bytes()[:b.Len()-1])
		}
		if _, err := t.pending.Write(b.Bytes()); err != nil {
			return fail(err)
		}
	}
	if comparing {
		if _, err := r.ReadByte(); err == io.EOF {
			t.same = true
			return t, nil
		}
	}
	if t.pending == nil {
		if err := start(); err != nil {
			return fail(err)
		}
	}
	return t, nil
}
