package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const noMachine = "    | e2e: no machine to run in (E2E_PID=''); run this under boot.sh"

// TestScenarioChecks runs the checks of lib/scenario.sh without a machine
// and compares what they print and record. A check that cannot reach a
// machine must fail, never pass.
func TestScenarioChecks(t *testing.T) {
	tests := []struct {
		name    string
		snippet string
		out     []string
		record  string
		status  int
	}{
		{
			name:    "eq passes",
			snippet: `assert_eq "same" a a`,
			out:     []string{"PASS: demo: same"},
			record:  "PASS same\n",
		},
		{
			name:    "eq fails and says both",
			snippet: `assert_eq "differ" want got`,
			out:     []string{"FAIL: demo: differ: want 'want', got 'got'"},
			record:  "FAIL differ\n",
			status:  1,
		},
		{
			name:    "contains passes",
			snippet: `assert_contains "has" "a needle here" needle`,
			out:     []string{"PASS: demo: has"},
			record:  "PASS has\n",
		},
		{
			name:    "contains fails and shows the text",
			snippet: `assert_contains "lacks" "$(printf 'l1\nl2')" needle`,
			out:     []string{"FAIL: demo: lacks: no 'needle' in the text", "    | l1", "    | l2"},
			record:  "FAIL lacks\n",
			status:  1,
		},
		{
			name:    "ok without a machine fails",
			snippet: `assert_ok "runs" true`,
			out:     []string{"FAIL: demo: runs: 'true' exited 125", noMachine},
			record:  "FAIL runs\n",
			status:  1,
		},
		{
			name:    "fails without a machine fails too",
			snippet: `assert_fails "refuses" false`,
			out:     []string{"FAIL: demo: refuses: 'false' could not run (exit 125)", noMachine},
			record:  "FAIL refuses\n",
			status:  1,
		},
		{
			name:    "eventually without a machine fails at once",
			snippet: `E2E_EVENTUALLY=600 assert_eventually "settles" true`,
			out:     []string{"FAIL: demo: settles: 'true' could not run (exit 125)", noMachine},
			record:  "FAIL settles\n",
			status:  1,
		},
		{
			name:    "checks go on after a failure",
			snippet: `assert_eq one 1 2; pass two`,
			out:     []string{"FAIL: demo: one: want '1', got '2'", "PASS: demo: two"},
			record:  "FAIL one\nPASS two\n",
		},
		{
			name:    "a snapshot without a machine fails and stops the scenario",
			snippet: `. "$E2E_LIB/snapshot.sh"; snapshot_before packages etc || exit 1; pass after`,
			out:     []string{"FAIL: demo: snapshot before trail: could not take the packages snapshot"},
			record:  "FAIL snapshot before trail\n",
			status:  1,
		},
		{
			name:    "fail detail keeps only the last 20 lines",
			snippet: `fail long why "$(seq 1 30)"`,
			out:     append([]string{"FAIL: demo: long: why"}, numbered(11, 30)...),
			record:  "FAIL long\n",
			status:  1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			results := filepath.Join(t.TempDir(), "results")
			env := []string{"E2E_SCENARIO=demo", "E2E_RESULTS=" + results, "E2E_PID="}
			out, _, code := script(t, env, `. "$E2E_LIB/scenario.sh"; `+tt.snippet)
			if code != tt.status {
				t.Errorf("status %d, want %d", code, tt.status)
			}
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			if strings.Join(lines, "\n") != strings.Join(tt.out, "\n") {
				t.Errorf("printed:\n%s\nwant:\n%s", out, strings.Join(tt.out, "\n"))
			}
			rec, err := os.ReadFile(results)
			if err != nil {
				t.Fatal(err)
			}
			if string(rec) != tt.record {
				t.Errorf("recorded %q, want %q", rec, tt.record)
			}
		})
	}
}

func numbered(from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, "    | "+strconv.Itoa(i))
	}
	return out
}
