package packages

import "slices"

// The simulations the decision over a plan's PKG removals asks apt-get
// -s (remove.go): what one call would remove besides what it is meant to.

// txArgs renders one apt-get call that installs refs and removes rm and
// deps, with opts.
func txArgs(opts, refs, rm, deps []string) []string {
	if len(refs) == 0 {
		if len(rm)+len(deps) == 0 {
			return append(slices.Clone(opts), "autoremove")
		}
		return append(append(append(slices.Clone(opts), "remove"), rm...), deps...)
	}
	a := append(slices.Clone(opts), "--allow-downgrades", "--no-install-recommends", "install")
	a = append(a, refs...)
	for _, n := range append(slices.Clone(rm), deps...) {
		a = append(a, n+"-")
	}
	return a
}

// alsoRemoved returns what the call removing rm (and installing refs)
// would remove besides rm and going.
func (t Tools) alsoRemoved(refs, rm, going []string) ([]string, error) {
	if len(rm) == 0 {
		return nil, nil
	}
	sim, err := t.simulate(txArgs([]string{"--no-auto-remove"}, refs, rm, nil)...)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(sim.removed, func(n string) bool { return hasName(rm, n) || hasName(going, n) }), nil
}

// autoRemoved returns what apt would autoremove once the call has run.
func (t Tools) autoRemoved(refs, rm []string) ([]string, error) {
	opts := []string{"--auto-remove"}
	if len(refs)+len(rm) == 0 {
		opts = nil
	}
	sim, err := t.simulate(txArgs(opts, refs, rm, nil)...)
	if err != nil {
		return nil, err
	}
	return sim.removed, nil
}

// removableWith checks by simulation that the call removing deps too
// removes nothing else. When it would, it adds the deps one by one, and
// returns those that can go and those that cannot.
func (t Tools) removableWith(refs, rm, deps []string) ([]string, []blockedDep, error) {
	if len(deps) == 0 {
		return nil, nil, nil
	}
	others := func(ds []string) ([]string, error) {
		sim, err := t.simulate(txArgs([]string{"--no-auto-remove"}, refs, rm, ds)...)
		if err != nil {
			return nil, err
		}
		return slices.DeleteFunc(sim.removed, func(n string) bool { return hasName(rm, n) || hasName(ds, n) }), nil
	}
	also, err := others(deps)
	if err != nil || len(also) == 0 {
		return deps, nil, err
	}
	var free []string
	var blocked []blockedDep
	for _, d := range deps {
		also, err := others(append(slices.Clone(free), d))
		if err != nil {
			return nil, nil, err
		}
		if len(also) == 0 {
			free = append(free, d)
		} else {
			blocked = append(blocked, blockedDep{d, also})
		}
	}
	return free, blocked, nil
}

// removedBesides returns what the call installing refs and removing rm
// would remove besides rm and skip; unlike alsoRemoved, also for a call
// that only installs (puts a package back at its old version).
func (t Tools) removedBesides(refs, rm, skip []string) ([]string, error) {
	if len(refs)+len(rm) == 0 {
		return nil, nil
	}
	sim, err := t.simulate(txArgs([]string{"--no-auto-remove"}, refs, rm, nil)...)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(sim.removed, func(n string) bool { return hasName(rm, n) || hasName(skip, n) }), nil
}
