package host

import (
	"trail/apply"
)

// Plan compiles rev and returns what applying it would do from the applied
// state, through the same checks Apply makes. It changes nothing on the
// machine; the compiled contents go into the content store, as they would
// for an apply.
func (h *Host) Plan(rev string) (*apply.Plan, *Compiled, error) {
	commit, _, err := h.target(rev)
	if err != nil {
		return nil, nil, err
	}
	// An untrusted commit is not compiled, for a plan either: its
	// contents would go into the store.
	if err := h.verifyCommit(commit, false); err != nil {
		return nil, nil, err
	}
	c, err := h.Compile(commit)
	if err != nil {
		return nil, nil, err
	}
	if err := h.stage(c); err != nil {
		return nil, c, err
	}
	e, err := h.Engine()
	if err != nil {
		return nil, c, err
	}
	p, err := e.Plan(c.List)
	return p, c, err
}
