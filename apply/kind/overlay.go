package kind

import (
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
	// freshTwin is the shape alike but fresh, once MarkFresh needed it.
	freshTwin *shape
}

// keep returns img as the view keeps it, its shape shared through
// v.shapes; fresh as MarkFresh said. The shape's key is built in v.key:
// a look-up by it allocates nothing.
func (v *View) keep(img Image, fresh bool) predicted {
	sh := shape{state: img.State, fresh: fresh}
	p := predicted{}
	switch {
	case len(img.Attrs) > 0:
		sh.headKey, p.head, sh.rest = img.Attrs[0].Key, img.Attrs[0].Value, img.Attrs[1:]
	case img.Attrs != nil:
		sh.empty = true
	}
	b := append(v.key[:0], sh.state...)
	b = append(append(b, 0), sh.headKey...)
	b = append(b, 0)
	if sh.empty {
		b = append(b, 'e')
	}
	if sh.fresh {
		b = append(b, 'f')
	}
	b = append(b, 0)
	for _, a := range sh.rest {
		b = append(append(b, a.Key...), 0)
		b = append(append(b, a.Value...), 0)
	}
	v.key = b
	s, ok := v.shapes[string(b)]
	if !ok {
		s = new(shape)
		*s = sh
		s.rest = append([]stepfmt.Attr(nil), sh.rest...)
		v.shapes[string(b)] = s
	}
	p.shape = s
	return p
}

// freshened returns p as MarkFresh leaves it.
func (v *View) freshened(p predicted) predicted {
	if p.shape.fresh {
		return p
	}
	if p.shape.freshTwin == nil {
		p.shape.freshTwin = v.keep(p.image(), true).shape
	}
	return predicted{head: p.head, shape: p.shape.freshTwin}
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
