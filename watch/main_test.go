package watch

import (
	"os"
	"testing"
)

// TestMain keeps tests away from the service manager running them (if
// any): only a test's own socket may receive sd_notify messages. It also
// serves the benchmark's child processes (bench_test.go).
func TestMain(m *testing.M) {
	for _, v := range []string{"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"} {
		os.Unsetenv(v)
	}
	if mode := os.Getenv(childEnv); mode != "" {
		os.Exit(benchChild(mode))
	}
	os.Exit(m.Run())
}
