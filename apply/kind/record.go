package kind

import "trail/stepfmt"

// Drift policies, as the step language's drift attribute spells them.
const (
	PolicyReport = "report"
	PolicyHeal   = "heal"
	PolicyIgnore = "ignore"
)

// Record is what trail keeps about one managed target.
type Record struct {
	ID stepfmt.ID
	// Policy is the step's drift policy: report (the default), heal or
	// ignore.
	Policy string
	// Origin is the target as it was before trail managed it: the reverse
	// of the step restores it.
	Origin Image
	// Wrote is what trail last made the target: its state and the
	// attributes the step manages. A target that differs has drifted.
	Wrote Image
}

// PolicyOf returns the drift policy a step asks for.
func PolicyOf(s *stepfmt.Step) string {
	if p, ok := s.Get("drift"); ok {
		return p
	}
	return PolicyReport
}
