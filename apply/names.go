package apply

import "trail/apply/kind"

// The names a caller of the engine needs from its parts, so that host,
// watch and cmd/trail import apply alone.

// Image is the state of one target as its kind records it (see kind.Image).
type Image = kind.Image

// Drift policies, as the step language's drift attribute spells them.
const (
	PolicyReport = kind.PolicyReport
	PolicyHeal   = kind.PolicyHeal
	PolicyIgnore = kind.PolicyIgnore
)
