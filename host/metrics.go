package host

import (
	"fmt"

	"trail/apply"
	"trail/report"
)

// Metrics gathers what the metrics file says from a status (nil: gather
// one) and every generation, for the counters.
func (h *Host) Metrics(st *Status) (report.Metrics, error) {
	var m report.Metrics
	if st == nil {
		var err error
		if st, err = h.Status(); err != nil {
			return m, err
		}
	}
	if st.Applied != nil {
		m.Commit, m.Branch, m.Generation = st.Applied.Commit, st.Applied.Branch, uint64(st.Applied.Generation)
	}
	m.Pinned, m.CommitsBehindUpstream = st.Pinned, st.Behind
	for _, d := range st.Drift {
		if d.Policy != apply.PolicyIgnore {
			m.DriftedTargets++
		}
	}
	e, err := h.Engine()
	if err != nil {
		return m, err
	}
	m.StateBytes, _ = e.StateBytes()
	gens, err := e.Generations()
	if err != nil {
		return m, err
	}
	for i, g := range gens {
		if g.Result == apply.ResultOK {
			m.StepsAppliedTotal += g.Counts.Added + g.Counts.Modified + g.Counts.Removed
		}
		if i == 0 && g.Result != apply.ResultRunning {
			m.LastApply, m.LastApplySuccess = g.End, g.Result == apply.ResultOK
			m.ApplyDuration = g.End.Sub(g.Start)
		}
	}
	rec, err := h.loadRecord()
	if err != nil {
		return m, err
	}
	m.ApplyFailuresTotal = rec.Failures
	m.UntrustedCommit = rec.Failure != nil && rec.Failure.Untrusted
	m.PullRefused = rec.PullRefused != nil
	m.PullFailuresTotal, m.LastPullSuccess = rec.PullFailures, rec.LastPullSuccess
	if f := rec.Failure; f != nil && f.Time.After(m.LastApply) {
		// A commit that did not compile never reached the engine.
		m.LastApply, m.LastApplySuccess, m.ApplyDuration = f.Time, false, 0
	}
	return m, nil
}

// WriteMetrics writes the metrics file, when one is configured, from st
// (nil: a fresh status); a failure is reported, never fatal: monitoring
// must not stop an apply.
func (h *Host) WriteMetrics(st *Status) {
	path := h.Settings.metricsPath()
	if path == "" {
		return
	}
	m, err := h.Metrics(st)
	if err == nil {
		err = report.WriteMetrics(path, m)
	}
	if err != nil {
		fmt.Fprintf(h.Err, "trail: metrics: %v\n", err)
	}
}
