package report

import (
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
)

// DefaultMetricsPath is where Debian's prometheus-node-exporter reads
// textfiles from.
const DefaultMetricsPath = "/var/lib/prometheus/node-exporter/trail.prom"

// Metrics is what a host tells Prometheus about trail. Counters are totals
// over the host's whole history, kept by the caller (trail runs briefly,
// so nothing in this process could count them).
type Metrics struct {
	Commit     string // applied commit; no apply yet when empty
	Branch     string // branch it came from; empty when pinned
	Generation uint64

	LastApply        time.Time // zero: never applied
	LastApplySuccess bool
	ApplyDuration    time.Duration

	DriftedTargets        int
	CommitsBehindUpstream int
	Pinned                bool

	ApplyFailuresTotal int
	StepsAppliedTotal  int

	// UntrustedCommit is set while the last commit tried was refused
	// because its signature did not verify.
	UntrustedCommit bool
	// PullRefused is set while trail pull refuses the upstream: it is not
	// a descendant of HEAD (rewound or force-pushed).
	PullRefused bool
	// PullFailuresTotal counts failed fetches over the host's history;
	// LastPullSuccess is when one last worked (zero: never, left out).
	PullFailuresTotal int
	LastPullSuccess   time.Time
	// StateBytes is the size of the state directory's store and
	// generations as the last apply or trail gc measured it; 0: never
	// measured, left out.
	StateBytes int64
}

// The metric names, for callers that query or alert on them.
const (
	MetricAppliedInfo       = "trail_applied_info"
	MetricLastApplyTime     = "trail_last_apply_timestamp_seconds"
	MetricLastApplySuccess  = "trail_last_apply_success"
	MetricApplyDuration     = "trail_apply_duration_seconds"
	MetricDriftedTargets    = "trail_drifted_targets"
	MetricBehindUpstream    = "trail_commits_behind_upstream"
	MetricPinned            = "trail_pinned"
	MetricApplyFailures     = "trail_apply_failures_total"
	MetricStepsAppliedTotal = "trail_steps_applied_total"
	MetricUntrustedCommit   = "trail_untrusted_commit"
	MetricPullRefused       = "trail_pull_refused"
	MetricPullFailures      = "trail_pull_failures_total"
	MetricLastPullSuccess   = "trail_last_pull_success_timestamp_seconds"
	MetricStateBytes        = "trail_state_bytes"
)

// Check reports the first value Prometheus could not take or that cannot
// be true, naming the Metrics member.
func (m Metrics) Check() error {
	for _, l := range []struct{ name, v string }{{"Commit", m.Commit}, {"Branch", m.Branch}} {
		if !utf8.ValidString(l.v) {
			return fmt.Errorf("report: metrics: %s %q is not valid UTF-8", l.name, l.v)
		}
	}
	if m.Commit == "" && (m.Branch != "" || m.Generation != 0) {
		return errors.New("report: metrics: Branch or Generation set without Commit: set the applied commit")
	}
	for _, c := range []struct {
		name string
		v    int
	}{
		{"DriftedTargets", m.DriftedTargets},
		{"CommitsBehindUpstream", m.CommitsBehindUpstream},
		{"ApplyFailuresTotal", m.ApplyFailuresTotal},
		{"StepsAppliedTotal", m.StepsAppliedTotal},
		{"PullFailuresTotal", m.PullFailuresTotal},
	} {
		if c.v < 0 {
			return fmt.Errorf("report: metrics: %s is %d: counts cannot be negative", c.name, c.v)
		}
	}
	if m.ApplyDuration < 0 {
		return fmt.Errorf("report: metrics: ApplyDuration is %s: cannot be negative", m.ApplyDuration)
	}
	return nil
}

// Registry returns a Prometheus registry holding m's metrics. Metrics of
// an apply that never happened (no Commit, zero LastApply) are left out
// rather than reported as zero, which would read as "failed in 1970".
func (m Metrics) Registry() (*prometheus.Registry, error) {
	if err := m.Check(); err != nil {
		return nil, err
	}
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(collector{m}); err != nil {
		return nil, fmt.Errorf("report: metrics: %w", err)
	}
	return reg, nil
}

// collector turns a Metrics snapshot into constant metrics.
type collector struct{ m Metrics }

var (
	descInfo = prometheus.NewDesc(MetricAppliedInfo,
		"The commit trail applied last; always 1, the commit is a label.",
		[]string{"commit", "branch", "generation"}, nil)
	descLastApply = prometheus.NewDesc(MetricLastApplyTime,
		"Unix time the last apply finished, successful or not.", nil, nil)
	descSuccess = prometheus.NewDesc(MetricLastApplySuccess,
		"1 if the last apply succeeded, 0 if it failed.", nil, nil)
	descDuration = prometheus.NewDesc(MetricApplyDuration,
		"How long the last apply took, in seconds.", nil, nil)
	descDrifted = prometheus.NewDesc(MetricDriftedTargets,
		"Managed targets that differ from the applied commit.", nil, nil)
	descBehind = prometheus.NewDesc(MetricBehindUpstream,
		"Commits the checkout's upstream has that the applied commit lacks.", nil, nil)
	descPinned = prometheus.NewDesc(MetricPinned,
		"1 if the checkout is pinned (detached HEAD), so the timer never moves it.", nil, nil)
	descFailures = prometheus.NewDesc(MetricApplyFailures,
		"Applies that failed, over the host's history.", nil, nil)
	descSteps = prometheus.NewDesc(MetricStepsAppliedTotal,
		"Steps applied forward or in reverse, over the host's history.", nil, nil)
	descPullRefused = prometheus.NewDesc(MetricPullRefused,
		"1 while trail pull refuses the upstream because it is not a descendant of HEAD (history rewound or force-pushed).", nil, nil)
	descPullFailures = prometheus.NewDesc(MetricPullFailures,
		"Fetches of the upstream by trail pull that failed, over the host's history.", nil, nil)
	descLastPull = prometheus.NewDesc(MetricLastPullSuccess,
		"Unix time trail pull last fetched the upstream successfully.", nil, nil)
	descStateBytes = prometheus.NewDesc(MetricStateBytes,
		"Bytes in trail's content store and generations, as the last apply that changed something or trail gc measured them.", nil, nil)
	descUntrusted = prometheus.NewDesc(MetricUntrustedCommit,
		"1 while the last commit tried was refused because its signature does not verify against trail.keyring or trail.allowedsigners.", nil, nil)
)

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descInfo, descLastApply, descSuccess, descDuration,
		descDrifted, descBehind, descPinned, descFailures, descSteps, descUntrusted, descPullRefused, descPullFailures, descLastPull, descStateBytes} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	m := c.m
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	if m.Commit != "" {
		gen := ""
		if m.Generation != 0 {
			gen = fmt.Sprint(m.Generation)
		}
		gauge(descInfo, 1, m.Commit, m.Branch, gen)
	}
	if !m.LastApply.IsZero() {
		gauge(descLastApply, float64(m.LastApply.UnixNano())/1e9)
		gauge(descSuccess, boolFloat(m.LastApplySuccess))
		gauge(descDuration, m.ApplyDuration.Seconds())
	}
	gauge(descDrifted, float64(m.DriftedTargets))
	gauge(descBehind, float64(m.CommitsBehindUpstream))
	gauge(descPinned, boolFloat(m.Pinned))
	gauge(descUntrusted, boolFloat(m.UntrustedCommit))
	gauge(descPullRefused, boolFloat(m.PullRefused))
	if !m.LastPullSuccess.IsZero() {
		gauge(descLastPull, float64(m.LastPullSuccess.UnixNano())/1e9)
	}
	if m.StateBytes > 0 {
		gauge(descStateBytes, float64(m.StateBytes))
	}
	ch <- prometheus.MustNewConstMetric(descPullFailures, prometheus.CounterValue, float64(m.PullFailuresTotal))
	ch <- prometheus.MustNewConstMetric(descFailures, prometheus.CounterValue, float64(m.ApplyFailuresTotal))
	ch <- prometheus.MustNewConstMetric(descSteps, prometheus.CounterValue, float64(m.StepsAppliedTotal))
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
