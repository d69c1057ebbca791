package apply

import (
	"fmt"

	"trail/apply/kind"
)

// undoList lists the journaled changes in order: each one's place, 4
// bytes, with the undo images that are not a bare absent one kept apart
// by their index in the list, as their text (what the journal holds of
// them), read back when an undo needs them. A first apply's are all
// bare: 100,000 changes take 0.4 MB, where a place and a pointer each
// took 1.6. A take-over's are all files: 100,000 images held parsed took
// about 28 MB until the apply's end (280 bytes each), their text 16.
type undoList struct {
	at []int32
	// text holds the images end to end; span[j] is where the j-th is.
	text []byte
	span map[int][2]int32
}

func (l *undoList) add(u journaled) {
	if u.img != nil {
		l.keep(len(l.at), *u.img)
	}
	l.at = append(l.at, u.i)
}

func (l *undoList) keep(j int, img kind.Image) {
	if l.span == nil {
		l.span = make(map[int][2]int32)
	}
	start := len(l.text)
	l.text = append(l.text, img.String()...)
	l.span[j] = [2]int32{int32(start), int32(len(l.text))}
}

func (l *undoList) len() int { return len(l.at) }

// place returns the plan's place of the j-th journaled change.
func (l *undoList) place(j int) int32 { return l.at[j] }

// get returns the j-th journaled change.
func (l *undoList) get(j int) (journaled, error) {
	s, ok := l.span[j]
	if !ok {
		return journaled{l.at[j], nil}, nil
	}
	img, err := kind.ParseImage(string(l.text[s[0]:s[1]]))
	if err != nil {
		return journaled{}, fmt.Errorf("internal error: the undo image of change %d: %w", l.at[j]+1, err)
	}
	return journaled{l.at[j], &img}, nil
}

// set replaces the j-th journaled change; the text of the image it had
// stays, unused (an amend is rare: a tool kind's change).
func (l *undoList) set(j int, u journaled) {
	l.at[j] = u.i
	if u.img == nil {
		delete(l.span, j)
		return
	}
	l.keep(j, *u.img)
}
