package host

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"

	"trail/apply"
	"trail/internal/atomicfile"
	"trail/report"
)

// Metrics gathers what the metrics file says from a status (nil: gather
// one, without the store check, which no metric reports) and every
// generation, for the counters.
func (h *Host) Metrics(st *Status) (report.Metrics, error) { return h.metrics(st, true) }

// metrics is Metrics, gathering a status that checks drift only when
// checkDrift is set; otherwise nothing is counted as drifted.
func (h *Host) metrics(st *Status, checkDrift bool) (report.Metrics, error) {
	var m report.Metrics
	if st == nil {
		var err error
		if st, err = h.status(false, checkDrift); err != nil {
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
func (h *Host) WriteMetrics(st *Status) { h.writeMetrics(st, true) }

// WriteMetricsDrift writes the metrics file, when one is configured,
// counting drift as the caller's own drift check just found it (trail
// watch's, after each change it sees), from a status that checks none:
// one drift check per change, not a second one for the metrics.
func (h *Host) WriteMetricsDrift(drift []apply.Drift) {
	if h.Settings.metricsPath() == "" {
		return
	}
	st, err := h.status(false, false)
	if err != nil {
		fmt.Fprintf(h.Err, "trail: metrics: %v\n", err)
		return
	}
	st.addDrift(drift)
	h.noteDrifted(countDrifted(drift))
	h.writeMetrics(st, false)
}

// driftChecks counts the drift checks statuses ran, in this process.
var driftChecks atomic.Int64

// DriftChecks returns how many drift checks (a stat of every managed
// target) statuses and the metrics they gather ran in this process; a
// test counts what trail watch checks with it.
func DriftChecks() int64 { return driftChecks.Load() }

// writeMetricsAfterApply writes the metrics file after an apply, whether
// it worked or not. An apply makes no target drift (what it changes it
// makes as its steps say; a failed one is undone), so when the last drift
// check found nothing drifted, that stands, and the metrics do not check
// again: at 100,000 files that check is a stat of every target and a read
// of the applied record, 0.3 CPU seconds of a one-file pull. When it found
// drift (which the apply may have put back), or there was none, they do.
// A target changed by hand since the last check is counted by the next:
// the watcher's (at once), the timer's or trail status's.
func (h *Host) writeMetricsAfterApply() {
	n, ok := h.lastDrifted()
	h.writeMetrics(nil, !ok || n != 0)
}

func (h *Host) writeMetrics(st *Status, checkDrift bool) {
	path := h.Settings.metricsPath()
	if path == "" {
		return
	}
	m, err := h.metrics(st, checkDrift)
	if err == nil {
		err = report.WriteMetrics(path, m)
	}
	if err != nil {
		fmt.Fprintf(h.Err, "trail: metrics: %v\n", err)
	}
}

// driftedFile notes, in the state directory, how many managed targets
// (those whose drift policy is not ignore) the last drift check of a status
// found drifted: "N\n". It is written only when that changes, without a
// sync: lost, it is unknown, and the next apply checks.
const driftedFile = "drifted"

// countDrifted counts the drifted targets the metrics count.
func countDrifted(ds []apply.Drift) int {
	n := 0
	for _, d := range ds {
		if d.Policy != apply.PolicyIgnore {
			n++
		}
	}
	return n
}

// noteDrifted records the count a drift check found.
func (h *Host) noteDrifted(n int) {
	if old, ok := h.lastDrifted(); ok && old == n {
		return
	}
	path := filepath.Join(h.Settings.state(), driftedFile)
	if err := atomicfile.WriteUnsynced(path, []byte(strconv.Itoa(n)+"\n"), 0o600); err != nil {
		fmt.Fprintf(h.Err, "trail: state: %v\n", err)
	}
}

// lastDrifted is the count the last drift check found; false when unknown.
func (h *Host) lastDrifted() (int, bool) {
	data, err := os.ReadFile(filepath.Join(h.Settings.state(), driftedFile))
	if err != nil {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(data)))
	return n, err == nil && n >= 0
}
