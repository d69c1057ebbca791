package main

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"trail/report"
)

// written returns the names of the metrics trail writes, read back from
// a textfile written with every metric present.
func written(t *testing.T) []string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "trail.prom")
	m := report.Metrics{Commit: "3f2a9c1e5b7d8f00112233445566778899aabbcc", Branch: "main", Generation: 1,
		LastApply: time.Unix(1741944413, 0), LastApplySuccess: true, ApplyDuration: time.Second}
	if err := report.WriteMetrics(path, m); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var names []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := sc.Text(); l != "" && !strings.HasPrefix(l, "#") {
			names = append(names, strings.FieldsFunc(l, func(r rune) bool { return r == '{' || r == ' ' })[0])
		}
	}
	if len(names) < 9 {
		t.Fatalf("the textfile names only %v", names)
	}
	return names
}

// TestDashboard loads the shipped Grafana dashboard and holds every
// panel's PromQL to the metrics trail writes.
func TestDashboard(t *testing.T) {
	_, queries, err := loadDashboard(filepath.Join("..", "docs", "grafana-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	known := written(t)
	for _, q := range queries {
		names := metricNames(q.expr)
		if len(names) == 0 {
			t.Errorf("panel %q: %q selects no metric", q.panel, q.expr)
		}
		for _, n := range names {
			if !slices.Contains(known, n) {
				t.Errorf("panel %q: %q names %s, which trail does not write (it writes %v)", q.panel, q.expr, n, known)
			}
		}
	}
}

func TestMetricNames(t *testing.T) {
	tests := map[string][]string{
		`count by (branch, commit) (trail_applied_info)`:                                      {"trail_applied_info"},
		`trail_pinned == 1 and on (instance) trail_applied_info`:                              {"trail_pinned", "trail_applied_info"},
		`sum by (instance) (increase(trail_apply_failures_total[1h]))`:                        {"trail_apply_failures_total"},
		`count(trail_last_apply_success == 0) or vector(0)`:                                   {"trail_last_apply_success"},
		`trail_applied_info{commit="abc", branch=~"main|canary"} unless node_load1 offset 5m`: {"trail_applied_info", "node_load1"},
		`time() - trail_last_apply_timestamp_seconds`:                                         {"trail_last_apply_timestamp_seconds"},
		`trail_drifted_target > 0`:                                                            {"trail_drifted_target"},
	}
	for expr, want := range tests {
		if got := metricNames(expr); !slices.Equal(got, want) {
			t.Errorf("metricNames(%q) = %v, want %v", expr, got, want)
		}
	}
}

func TestLoadDashboardErrors(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"invalid":  `{"title": "x",`,
		"no query": `{"title": "x", "uid": "x", "panels": [{"title": "p", "type": "stat"}]}`,
		"empty":    `{"title": "x", "uid": "x", "panels": [{"title": "p", "type": "stat", "targets": [{"refId": "A", "expr": " "}]}]}`,
	} {
		path := filepath.Join(dir, name+".json")
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, _, err := loadDashboard(path); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
}
