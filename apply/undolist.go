package apply

import "trail/apply/kind"

// undoList lists the journaled changes in order: each one's place, 4
// bytes, with the undo images that are not a bare absent one kept apart
// by their index in the list. A first apply's are all bare: 100,000
// changes take 0.4 MB, where a place and a pointer each took 1.6.
type undoList struct {
	at   []int32
	imgs map[int]*kind.Image
}

func (l *undoList) add(u journaled) {
	if u.img != nil {
		if l.imgs == nil {
			l.imgs = make(map[int]*kind.Image)
		}
		l.imgs[len(l.at)] = u.img
	}
	l.at = append(l.at, u.i)
}

func (l *undoList) len() int { return len(l.at) }

// get returns the j-th journaled change.
func (l *undoList) get(j int) journaled { return journaled{l.at[j], l.imgs[j]} }

// set replaces the j-th journaled change.
func (l *undoList) set(j int, u journaled) {
	l.at[j] = u.i
	if u.img == nil {
		delete(l.imgs, j)
		return
	}
	if l.imgs == nil {
		l.imgs = make(map[int]*kind.Image)
	}
	l.imgs[j] = u.img
}
