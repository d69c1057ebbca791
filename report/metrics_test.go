package report

import (
	"bytes"
	"errors"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

var metricCases = map[string]Metrics{
	"applied": {
		Commit: "3f2a9c1e5b7d8f00112233445566778899aabbcc", Branch: "main", Generation: 7,
		LastApply: time.Date(2025, 3, 14, 9, 26, 53, 500000000, time.UTC), LastApplySuccess: true,
		ApplyDuration: 1500 * time.Millisecond, DriftedTargets: 2, CommitsBehindUpstream: 3,
		ApplyFailuresTotal: 1, StepsAppliedTotal: 120,
	},
	"failed while pinned": {
		Commit: "0123456789abcdef0123456789abcdef01234567", Generation: 12,
		LastApply: time.Unix(1741944413, 0), LastApplySuccess: false, ApplyDuration: 42 * time.Second,
		Pinned: true, ApplyFailuresTotal: 4, StepsAppliedTotal: 9001,
		PullFailuresTotal: 3, LastPullSuccess: time.Unix(1741940000, 0), UntrustedCommit: true, PullRefused: true,
	},
	"never applied": {},
}

// promtool returns the path of promtool, or skips: Debian's prometheus
// package ships it.
func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("SKIP: promtool not found, so the Prometheus checks did not run: make test runs .ci/deps, which unpacks it from Debian's prometheus package into ~/.cache/trail-tools/bin, and puts that on PATH")
	}
	return p
}

func writeCase(t *testing.T, m Metrics) (string, []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "trail.prom")
	if err := WriteMetrics(path, m); err != nil {
		t.Fatalf("WriteMetrics: %v", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, data
}

func TestMetricsGolden(t *testing.T) {
	got := map[string]string{}
	for name, m := range metricCases {
		_, data := writeCase(t, m)
		got[name] = string(data)
	}
	golden(t, "metrics", "node_exporter textfiles as WriteMetrics writes them; go test -update rewrites.", got)
}

// TestMetricsParseBack reads the file as node_exporter would.
func TestMetricsParseBack(t *testing.T) {
	m := metricCases["applied"]
	_, data := writeCase(t, m)
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, data)
	}
	tests := map[string]struct {
		typ  dto.MetricType
		want float64
	}{
		MetricAppliedInfo:       {dto.MetricType_GAUGE, 1},
		MetricLastApplyTime:     {dto.MetricType_GAUGE, 1741944413.5},
		MetricLastApplySuccess:  {dto.MetricType_GAUGE, 1},
		MetricApplyDuration:     {dto.MetricType_GAUGE, 1.5},
		MetricDriftedTargets:    {dto.MetricType_GAUGE, 2},
		MetricBehindUpstream:    {dto.MetricType_GAUGE, 3},
		MetricPinned:            {dto.MetricType_GAUGE, 0},
		MetricApplyFailures:     {dto.MetricType_COUNTER, 1},
		MetricStepsAppliedTotal: {dto.MetricType_COUNTER, 120},
		MetricUntrustedCommit:   {dto.MetricType_GAUGE, 0},
		MetricPullRefused:       {dto.MetricType_GAUGE, 0},
		MetricPullFailures:      {dto.MetricType_COUNTER, 0},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f, ok := fams[name]
			if !ok {
				t.Fatalf("missing from\n%s", data)
			}
			if f.GetHelp() == "" {
				t.Error("no HELP text")
			}
			if f.GetType() != tc.typ {
				t.Errorf("type %s, want %s", f.GetType(), tc.typ)
			}
			if len(f.Metric) != 1 {
				t.Fatalf("%d samples, want 1", len(f.Metric))
			}
			var v float64
			if tc.typ == dto.MetricType_COUNTER {
				v = f.Metric[0].GetCounter().GetValue()
			} else {
				v = f.Metric[0].GetGauge().GetValue()
			}
			if math.Abs(v-tc.want) > 1e-6 {
				t.Errorf("value %v, want %v", v, tc.want)
			}
		})
	}
	labels := map[string]string{}
	for _, l := range fams[MetricAppliedInfo].Metric[0].Label {
		labels[l.GetName()] = l.GetValue()
	}
	want := map[string]string{"commit": m.Commit, "branch": "main", "generation": "7"}
	if !mapsEqual(labels, want) {
		t.Fatalf("info labels %v, want %v", labels, want)
	}
	if len(fams) != len(tests) {
		t.Fatalf("%d metric families, want %d", len(fams), len(tests))
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestMetricsNeverApplied: no apply means no apply metrics, not zeros that
// would read as "failed in 1970".
func TestMetricsNeverApplied(t *testing.T) {
	_, data := writeCase(t, Metrics{})
	for _, name := range []string{MetricAppliedInfo, MetricLastApplyTime, MetricLastApplySuccess, MetricApplyDuration} {
		if bytes.Contains(data, []byte(name)) {
			t.Errorf("%s present before any apply:\n%s", name, data)
		}
	}
	if !bytes.Contains(data, []byte(MetricApplyFailures+" 0\n")) {
		t.Errorf("counters missing:\n%s", data)
	}
}

func TestMetricsPromtool(t *testing.T) {
	bin := promtool(t)
	for name, m := range metricCases {
		t.Run(name, func(t *testing.T) {
			_, data := writeCase(t, m)
			cmd := exec.Command(bin, "check", "metrics")
			cmd.Stdin = bytes.NewReader(data)
			if out, err := cmd.CombinedOutput(); err != nil || len(out) != 0 {
				t.Fatalf("promtool check metrics: %v\n%s\n%s", err, out, data)
			}
		})
	}
}

// TestPromtoolCatchesBadMetrics shows the check above can fail.
func TestPromtoolCatchesBadMetrics(t *testing.T) {
	cmd := exec.Command(promtool(t), "check", "metrics")
	cmd.Stdin = strings.NewReader("# HELP trail_x x\n# TYPE trail_x counter\ntrail_x 1\n")
	if out, err := cmd.CombinedOutput(); err == nil && len(out) == 0 {
		t.Fatal("promtool accepted a counter without _total")
	}
}

func TestWriteMetricsReplacesAtomically(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "trail.prom")
	if err := os.WriteFile(path, []byte("old\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	before := inode(t, path)
	if err := WriteMetrics(path, metricCases["applied"]); err != nil {
		t.Fatal(err)
	}
	if inode(t, path) == before {
		t.Error("file rewritten in place, want a new file renamed over it")
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644 so node_exporter can read it", fi.Mode().Perm())
	}
	assertOnly(t, dir, "trail.prom")
}

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

// assertOnly fails unless dir holds exactly names: no temp file is left.
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if !slices.Equal(got, names) {
		t.Fatalf("%s holds %q, want %q", dir, got, names)
	}
}

func TestWriteMetricsRefusesBadInput(t *testing.T) {
	tests := map[string]struct {
		m    Metrics
		want string
	}{
		"negative drift":        {Metrics{DriftedTargets: -1}, "DriftedTargets"},
		"negative behind":       {Metrics{CommitsBehindUpstream: -2}, "CommitsBehindUpstream"},
		"negative failures":     {Metrics{ApplyFailuresTotal: -1}, "ApplyFailuresTotal"},
		"negative steps":        {Metrics{StepsAppliedTotal: -1}, "StepsAppliedTotal"},
		"negative duration":     {Metrics{ApplyDuration: -time.Second}, "ApplyDuration"},
		"commit not UTF-8":      {Metrics{Commit: "\xff"}, "Commit"},
		"branch not UTF-8":      {Metrics{Commit: "a", Branch: "\xfe"}, "Branch"},
		"branch without commit": {Metrics{Branch: "main"}, "without Commit"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "trail.prom")
			if err := os.WriteFile(path, []byte("old\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			err := WriteMetrics(path, tc.m)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one naming %s", err, tc.want)
			}
			if data, _ := os.ReadFile(path); string(data) != "old\n" {
				t.Fatalf("file changed to %q", data)
			}
			assertOnly(t, dir, "trail.prom")
		})
	}
}

func TestWriteMetricsMissingDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "node-exporter")
	err := WriteMetrics(filepath.Join(dir, "trail.prom"), Metrics{})
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "prometheus-node-exporter") {
		t.Fatalf("error %v, want fs.ErrNotExist saying what to install", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("WriteMetrics created %s", dir)
	}
}

func TestWriteMetricsFailedRenameLeavesNoTemp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "trail.prom")
	if err := os.MkdirAll(filepath.Join(path, "busy"), 0o755); err != nil {
		t.Fatal(err)
	}
	err := WriteMetrics(path, metricCases["applied"])
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("error %v, want one naming %s", err, path)
	}
	assertOnly(t, dir, "trail.prom")
}

func TestDefaultMetricsPath(t *testing.T) {
	if DefaultMetricsPath != "/var/lib/prometheus/node-exporter/trail.prom" {
		t.Fatalf("DefaultMetricsPath %s", DefaultMetricsPath)
	}
}

// TestMetricsStateBytes: the state's size is a gauge once measured, and
// left out before.
func TestMetricsStateBytes(t *testing.T) {
	_, data := writeCase(t, Metrics{StateBytes: 4096})
	if !bytes.Contains(data, []byte(MetricStateBytes+" 4096\n")) {
		t.Errorf("%s missing:\n%s", MetricStateBytes, data)
	}
	if _, data := writeCase(t, Metrics{}); bytes.Contains(data, []byte(MetricStateBytes)) {
		t.Errorf("%s present before any measure:\n%s", MetricStateBytes, data)
	}
}
