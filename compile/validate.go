package compile

import (
	"github.com/hashicorp/hcl/v2"

	"trail/stepfmt"
)

// validate reports targets managed twice (naming both blocks), then runs
// stepfmt's validation on the whole list and places its errors on the
// blocks that made the steps. The index of the steps in list order, none
// twice, is the order's where it made one, else made here, and serves
// both.
func (c *compiler) validate(list *stepfmt.List, origins []Origin) {
	step := func(i int) *stepfmt.Step { return list.Steps[i] }
	index := c.listIndex
	c.listIndex = nil
	if index != nil {
		index = index.For(step)
	} else if index = c.indexOnce(list, origins, step); index == nil {
		return
	}
	c.placeErrors(list, origins, stepfmt.ValidateIndexed(list, index))
}

// indexOnce indexes the list's steps in list order and reports each
// target managed twice; nil when one is.
func (c *compiler) indexOnce(list *stepfmt.List, origins []Origin, step func(int) *stepfmt.Step) *stepfmt.Index {
	first := stepfmt.NewIndex(len(list.Steps), step)
	dups := false
	for i, st := range list.Steps {
		j, dup := first.Add(i)
		if !dup {
			continue
		}
		dups = true
		a, b := origins[j], origins[i]
		rng := b.Range
		if blk := c.blockOf(b); blk != nil {
			rng = blk.DefRange
		}
		hint := ""
		if st.Kind == stepfmt.KindEdit && list.Steps[j].Kind == stepfmt.KindEdit {
			hint = " The edits of one file go in one edit block, in order: edits = [{ ... }, { ... }]."
		}
		c.diags = append(c.diags, errorf(&rng, "Managed twice",
			"%s is made by %s here and by %s at %s (%s); a target can be managed by one block only. Remove one, or limit them to different hosts with roles or when.%s",
			st.ID(), b.Resource, a.Resource, at(a.Range), list.Steps[j].ID(), hint))
	}
	if dups {
		return nil
	}
	return first
}

// placeErrors reports the validation's errors on the blocks that made
// the steps.
func (c *compiler) placeErrors(list *stepfmt.List, origins []Origin, errs stepfmt.ErrorList) {
	if len(errs) == 0 {
		return
	}
	byID := make(map[stepfmt.ID][]int, len(list.Steps))
	for i, st := range list.Steps {
		byID[st.ID()] = append(byID[st.ID()], i)
	}
	for _, e := range errs {
		var rng *hcl.Range
		for _, i := range byID[stepfmt.ID{Kind: e.Kind, Target: e.Target}] {
			if rng == nil || list.Steps[i].Src == e.Src {
				r := origins[i].Range
				if blk := c.blockOf(origins[i]); blk != nil {
					r = blk.DefRange
				}
				rng = &r
			}
		}
		c.diags = append(c.diags, errorf(rng, "Invalid step", "%s %s %s.", e.Kind, e.Target, e.Msg))
	}
}

// blockOf finds the block of an origin, for pointing at its header.
func (c *compiler) blockOf(o Origin) *hcl.Block {
	for _, r := range c.resources {
		if r.addr == o.Resource {
			return r.block
		}
	}
	return nil
}
