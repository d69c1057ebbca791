package host

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"trail/stepfmt"
)

// EditResult returns what the EDIT step at path makes of the file on this
// machine at rev: the content its validate command is given, which a
// checker's refusal at a path a secret names does not show ('trail show
// -secret'). It plans rev as Plan does, with no validate command run, so
// that a content a checker refuses is still computed. When the edits
// change nothing the file on the machine is that content.
func (h *Host) EditResult(rev, path string) ([]byte, error) {
	commit, _, err := h.target(rev)
	if err != nil {
		return nil, err
	}
	if err := h.verifyCommit(commit, false); err != nil {
		return nil, err
	}
	c, err := h.Compile(commit)
	if err != nil {
		return nil, err
	}
	if err := h.stage(c); err != nil {
		return nil, err
	}
	l := &stepfmt.List{Header: c.List.Header, Steps: make([]*stepfmt.Step, len(c.List.Steps))}
	found := false
	for i, s := range c.List.Steps {
		if s.Kind == stepfmt.KindEdit && s.Target == path {
			found = true
		}
		if _, ok := s.Get("validate"); !ok {
			l.Steps[i] = s
			continue
		}
		t := *s
		t.Attrs = slices.DeleteFunc(slices.Clone(s.Attrs), func(a stepfmt.Attr) bool { return a.Key == "validate" })
		l.Steps[i] = &t
	}
	if !found {
		return nil, fmt.Errorf("%s is not edited by an edit block at %s", path, Short(c.Commit.Hash))
	}
	e, err := h.Engine()
	if err != nil {
		return nil, err
	}
	p, err := e.Plan(l)
	if err != nil {
		return nil, err
	}
	for i, ch := range p.Changes {
		if ch.Step.Kind == stepfmt.KindEdit && ch.Step.Target == path && ch.Op != stepfmt.OpRemove {
			if data, ok := p.Content(i); ok {
				return data, nil
			}
		}
	}
	return os.ReadFile(filepath.Join(h.Settings.root(), filepath.FromSlash(path)))
}
