package watch

import (
	"strings"

	"trail/apply"
)

// reportable drops the drift whose policy is ignore.
func reportable(drift []apply.Drift) []apply.Drift {
	out := make([]apply.Drift, 0, len(drift))
	for _, d := range drift {
		if d.Policy != apply.PolicyIgnore {
			out = append(out, d)
		}
	}
	return out
}

// key identifies one drift as found: the target and what it looks like
// now, so a target that drifts again differently counts as new.
func key(d apply.Drift) string {
	var b strings.Builder
	b.WriteString(d.ID.String())
	b.WriteByte(0)
	b.WriteString(d.Policy)
	b.WriteByte(0)
	b.WriteString(d.Now.String())
	if d.Err != nil {
		b.WriteByte(0)
		b.WriteString(d.Err.Error())
	}
	return b.String()
}

func fingerprint(drift []apply.Drift) string {
	var b strings.Builder
	for _, d := range drift {
		b.WriteString(key(d))
		b.WriteByte('\n')
	}
	return b.String()
}

// Fresh returns the entries of now that are not in prev, or differ from
// it: what drifted since the previous OnDrift call, for a caller that logs
// each drift once.
func Fresh(prev, now []apply.Drift) []apply.Drift {
	seen := make(map[string]struct{}, len(prev))
	for _, d := range prev {
		seen[key(d)] = struct{}{}
	}
	var out []apply.Drift
	for _, d := range now {
		if _, ok := seen[key(d)]; !ok {
			out = append(out, d)
		}
	}
	return out
}
