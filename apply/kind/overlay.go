package kind

import (
	"strings"

	"trail/stepfmt"
)

// predicted is an image as a plan's view keeps it: its first attribute
// apart and the rest shared with every image ending the same way. A plan
// of 100,000 added files predicts 100,000 images that differ only in their
// content key (mode, uid and gid alike); each held whole took a 128-byte
// attribute list besides its entry.
type predicted struct {
	state string
	head  stepfmt.Attr // Key "" when the image has no attributes
	tail  *[]stepfmt.Attr
}

// noAttrs stands for an image's empty, non-nil attribute list.
var noAttrs = &[]stepfmt.Attr{}

// keep returns img as the view keeps it, its tail shared through tails.
func keep(tails map[string]*[]stepfmt.Attr, img Image) predicted {
	p := predicted{state: img.State}
	if len(img.Attrs) == 0 {
		if img.Attrs != nil {
			p.tail = noAttrs
		}
		return p
	}
	p.head = img.Attrs[0]
	rest := img.Attrs[1:]
	var b strings.Builder
	for _, a := range rest {
		b.WriteString(a.Key)
		b.WriteByte(0)
		b.WriteString(a.Value)
		b.WriteByte(0)
	}
	t, ok := tails[b.String()]
	if !ok {
		c := make([]stepfmt.Attr, len(rest))
		copy(c, rest)
		t = &c
		tails[b.String()] = t
	}
	p.tail = t
	return p
}

// image returns the image p was kept from, in a list of its own.
func (p predicted) image() Image {
	img := Image{State: p.state}
	switch {
	case p.head.Key != "":
		img.Attrs = make([]stepfmt.Attr, 0, 1+len(*p.tail))
		img.Attrs = append(append(img.Attrs, p.head), *p.tail...)
	case p.tail != nil:
		img.Attrs = []stepfmt.Attr{}
	}
	return img
}
