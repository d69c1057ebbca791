package packages

import (
	"fmt"
	"slices"
	"strings"

	"trail/apply/kind"
	"trail/stepfmt"
)

// SourcePaths are where apt reads its sources and their keys from. A
// change of a path at or under one of them in an apply (a step's write,
// change or removal) makes the PKG steps that follow it in the plan run
// apt-get update first, once, so that one commit can add a vendor
// repository and a package from it, and a rollback that takes the
// repository away leaves lists without it.
var SourcePaths = []string{"/etc/apt/sources.list", "/etc/apt/sources.list.d", "/etc/apt/keyrings",
	"/etc/apt/trusted.gpg", "/etc/apt/trusted.gpg.d"}

// IsSourcePath reports whether p is an apt source or key path.
func IsSourcePath(p string) bool {
	for _, s := range SourcePaths {
		if p == s || strings.HasPrefix(p, s+"/") {
			return true
		}
	}
	return false
}

// aptSources is where in a plan apt's sources change and where the apply
// last ran apt-get update, kept in the Exec (aptSourcesKey).
type aptSources struct {
	at      map[*stepfmt.Step]int // plan position of each PKG change
	changes []int                 // plan positions of source path changes, ascending
	updated int                   // plan position of the last update, -1 for none
}

type aptSourcesKey struct{}

// planSources records the plan's source path changes and the position of
// its PKG changes, after the PKG removals were moved (gatherPkgRemovals).
func planSources(x *kind.Exec, p *stepfmt.Plan) {
	a := &aptSources{at: map[*stepfmt.Step]int{}, updated: -1}
	for i, c := range p.Changes {
		switch {
		case stepfmt.IsPath(c.Step.Kind) && IsSourcePath(c.Step.Target):
			a.changes = append(a.changes, i)
		case c.Step.Kind == stepfmt.KindPackage:
			a.at[c.Step] = i
		}
	}
	if len(a.changes) == 0 {
		x.Keep(aptSourcesKey{}, nil)
		return
	}
	x.Keep(aptSourcesKey{}, a)
}

// sourcesBefore reports whether a source path changes in the plan before
// the change of s (before the end of the plan for a step it does not
// list, such as the undo of a failed apply), and after the last update.
func sourcesBefore(x *kind.Exec, s *stepfmt.Step) (*aptSources, int, bool) {
	a, _ := x.Kept(aptSourcesKey{}).(*aptSources)
	if a == nil {
		return nil, 0, false
	}
	pos, ok := a.at[s]
	if !ok {
		pos = int(^uint(0) >> 1)
	}
	last := -1
	for _, i := range a.changes {
		if i < pos {
			last = i
		}
	}
	return a, pos, last > a.updated
}

// updateLists runs apt-get update before the first apt call for s when
// a source path changed earlier in the apply, and not since the last
// update. Under a root apt reads the root's sources (Tools.Apt).
func updateLists(x *kind.Exec, s *stepfmt.Step) error {
	a, pos, need := sourcesBefore(x, s)
	if !need {
		return nil
	}
	if out, err := pkgToolsOf(x).Apt("apt-get", "-q", "update"); err != nil {
		return fmt.Errorf("apt-get update after a change of apt's sources: %w: %s", err, strings.TrimSpace(out))
	}
	a.updated = pos
	x.Report("apt-get update: apt's sources changed")
	return nil
}

// afterUpdate is the note of a package the plan cannot find in the lists
// of today, when a source of the same apply changes before it.
const afterUpdate = "resolved after apt-get update: apt's sources change before it"

// Refresh runs apt-get update after an undo that put back apt's sources,
// unless this apply's own account (recovery of an interrupted apply has
// none: its plan is gone) says it put them back before it updated the
// lists, which are then as they were: the lists forget a repository the
// undo took away, and do not wait for apt's next update.
func (Package) Refresh(x *kind.Exec, undone []*stepfmt.Step) (string, error) {
	if a, ok := x.Kept(aptSourcesKey{}).(*aptSources); ok && a.updated < 0 {
		return "", nil
	}
	if !slices.ContainsFunc(undone, func(s *stepfmt.Step) bool { return stepfmt.IsPath(s.Kind) && IsSourcePath(s.Target) }) {
		return "", nil
	}
	if out, err := pkgToolsOf(x).Apt("apt-get", "-q", "update"); err != nil {
		return "", fmt.Errorf("apt-get update after apt's sources were put back: %w: %s (apt's lists still have what the undone apply fetched until apt-get update runs)", err, strings.TrimSpace(out))
	}
	return "apt-get update: apt's sources were put back", nil
}
