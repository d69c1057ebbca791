package report

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
)

var knownMetrics = []string{
	MetricAppliedInfo, MetricLastApplyTime, MetricLastApplySuccess, MetricApplyDuration,
	MetricDriftedTargets, MetricBehindUpstream, MetricPinned, MetricApplyFailures,
	MetricStepsAppliedTotal, MetricUntrustedCommit, MetricPullRefused, MetricPullFailures,
	MetricLastPullSuccess, MetricStateBytes,
}

var shippedDocs = []string{
	filepath.Join("..", "docs", "alerts.yml"),
	filepath.Join("..", "docs", "monitoring.md"),
}

// TestDocsNameRealMetrics keeps the shipped rules and queries in step with
// the metrics this package writes.
func TestDocsNameRealMetrics(t *testing.T) {
	name := regexp.MustCompile(`\btrail_[a-z_]+\b`)
	for _, path := range shippedDocs {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		used := name.FindAllString(string(data), -1)
		if len(used) == 0 {
			t.Errorf("%s names no trail metric", path)
		}
		for _, m := range used {
			if !slices.Contains(knownMetrics, m) {
				t.Errorf("%s uses %s, which trail does not write", path, m)
			}
		}
	}
}

func TestAlertRulesCheck(t *testing.T) {
	out, err := exec.Command(promtool(t), "check", "rules", shippedDocs[0]).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
}

// TestAlertRulesFire feeds series to the rules and checks which alerts
// fire and when (testdata/alerts_test.yml).
func TestAlertRulesFire(t *testing.T) {
	out, err := exec.Command(promtool(t), "test", "rules", filepath.Join("testdata", "alerts_test.yml")).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool test rules: %v\n%s", err, out)
	}
}
