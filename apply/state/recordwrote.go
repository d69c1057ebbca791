package state

import (
	"bytes"
	"fmt"

	"trail/apply/kind"
	"trail/stepfmt"
)

// Wrote returns the drift policy and the image trail wrote of the target
// of identity id, as Get's record has them, parsing only those two fields:
// a drift check of every target (a --force) reads nothing else of most
// records, and the whole of 100,000 of them parsed is a tenth of its
// engine's time. A line that does not parse is an error for Err, as Get's.
func (a *Applied) Wrote(id stepfmt.ID) (policy string, wrote kind.Image, ok bool) {
	line, off, found := a.find(id)
	if !found {
		return "", kind.Image{}, false
	}
	if a.last != nil && a.lastOff == off {
		return a.last.Policy, a.last.Wrote, true
	}
	// kind, target (which find matched), policy, origin, wrote.
	var f [5][]byte
	rest := line
	for i := range f {
		var cut bool
		f[i], rest, cut = bytes.Cut(rest, []byte("\t"))
		if cut != (i < 4) {
			a.fail(fmt.Errorf("the applied record changed while it was read: %s %s: want 5 tab-separated fields", id.Kind, id.Target))
			return "", kind.Image{}, false
		}
	}
	switch string(f[2]) {
	case kind.PolicyReport:
		policy = kind.PolicyReport
	case kind.PolicyHeal:
		policy = kind.PolicyHeal
	case kind.PolicyIgnore:
		policy = kind.PolicyIgnore
	default:
		a.fail(fmt.Errorf("the applied record changed while it was read: %s %s: drift policy %q is not report, heal or ignore", id.Kind, id.Target, f[2]))
		return "", kind.Image{}, false
	}
	w, err := kind.ParseImage(string(f[4]))
	if err != nil {
		a.fail(fmt.Errorf("the applied record changed while it was read: %s %s: wrote: %w", id.Kind, id.Target, err))
		return "", kind.Image{}, false
	}
	return policy, w, true
}
