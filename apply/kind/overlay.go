package kind

import (
	"strings"

	"trail/stepfmt"
)

// predicted is an image as a plan's view keeps it: the value of its first
// attribute, and all else (its state, that attribute's key, the rest of
// its attributes and whether the plan made the object afresh) in a shape
// shared with every image alike but for that value. A plan of 100,000
// added files predicts 100,000 images that differ only in their content
// key (mode, uid and gid alike); each held whole took a 128-byte
// attribute list besides its entry, and the state, the first attribute
// whole and a pointer to the rest, 56 bytes, where this is 24.
type predicted struct {
	head  string // the first attribute's value
	shape *shape
}

// shape is what images alike but for their first attribute's value
// share.
type shape struct {
	state   string
	headKey string // "" when the image has no attributes
	// empty marks an image whose attribute list is empty, not nil.
	empty bool
	rest  []stepfmt.Attr
	// fresh marks a path the plan creates, replaces or removes
	// (View.MarkFresh).
	fresh bool
}

// keep returns img as the view keeps it, its shape shared through
// shapes; fresh as MarkFresh said.
func keep(shapes map[string]*shape, img Image, fresh bool) predicted {
	sh := shape{state: img.State, fresh: fresh}
	p := predicted{}
	switch {
	case len(img.Attrs) > 0:
		sh.headKey, p.head, sh.rest = img.Attrs[0].Key, img.Attrs[0].Value, img.Attrs[1:]
	case img.Attrs != nil:
		sh.empty = true
	}
	var b strings.Builder
	b.WriteString(sh.state)
	b.WriteByte(0)
	b.WriteString(sh.headKey)
	b.WriteByte(0)
	if sh.empty {
		b.WriteByte('e')
	}
	if sh.fresh {
		b.WriteByte('f')
	}
	b.WriteByte(0)
	for _, a := range sh.rest {
		b.WriteString(a.Key)
		b.WriteByte(0)
		b.WriteString(a.Value)
		b.WriteByte(0)
	}
	s, ok := shapes[b.String()]
	if !ok {
		sh.rest = append([]stepfmt.Attr(nil), sh.rest...)
		s = &sh
		shapes[b.String()] = s
	}
	p.shape = s
	return p
}

// image returns the image p was kept from, in a list of its own.
func (p predicted) image() Image {
	sh := p.shape
	img := Image{State: sh.state}
	switch {
	case sh.headKey != "":
		img.Attrs = make([]stepfmt.Attr, 0, 1+len(sh.rest))
		img.Attrs = append(append(img.Attrs, stepfmt.Attr{Key: sh.headKey, Value: p.head}), sh.rest...)
	case sh.empty:
		img.Attrs = []stepfmt.Attr{}
	}
	return img
}
