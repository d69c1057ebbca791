package report

import (
	"context"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestNotifyMessages(t *testing.T) {
	tests := map[string]struct {
		send func() error
		want string
	}{
		"ready with status": {func() error { return Ready("applied 3f2a9c1, watching 12 paths") }, "READY=1\nSTATUS=applied 3f2a9c1, watching 12 paths"},
		"ready alone":       {func() error { return Ready("") }, "READY=1"},
		"status":            {func() error { return Status("drift: /etc/motd") }, "STATUS=drift: /etc/motd"},
		"status one line":   {func() error { return Status("a\nREADY=1\n\tb") }, "STATUS=a READY=1 b"},
		"watchdog":          {Watchdog, "WATCHDOG=1"},
		"stopping":          {func() error { return Stopping("finishing step 3") }, "STOPPING=1\nSTATUS=finishing step 3"},
	}
	sockets := map[string]string{"path": "n.sock", "abstract": "@trail-test-" + rand.Text()}
	for kind, name := range sockets {
		for tname, tc := range tests {
			t.Run(kind+"/"+tname, func(t *testing.T) {
				conn, addr := listen(t, name)
				t.Setenv("NOTIFY_SOCKET", addr)
				if err := tc.send(); err != nil {
					t.Fatal(err)
				}
				if got := string(receive(t, conn).data); got != tc.want {
					t.Fatalf("got %q, want %q", got, tc.want)
				}
			})
		}
	}
}

func TestNotifyWithoutSystemd(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	for name, f := range map[string]func() error{"ready": func() error { return Ready("x") }, "watchdog": Watchdog} {
		if err := f(); err != nil {
			t.Errorf("%s without NOTIFY_SOCKET: %v, want nil", name, err)
		}
	}
}

func TestNotifyDeadSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gone.sock")
	t.Setenv("NOTIFY_SOCKET", path)
	err := Ready("x")
	if err == nil || !strings.Contains(err.Error(), "READY=1") || !strings.Contains(err.Error(), path) {
		t.Fatalf("error %v, want one naming the message and %s", err, path)
	}
}

func TestWatchdogInterval(t *testing.T) {
	pid := strconv.Itoa(os.Getpid())
	tests := map[string]struct {
		usec, pid string
		want      time.Duration
		err       string
	}{
		"none":           {"", "", 0, ""},
		"set":            {"30000000", "", 30 * time.Second, ""},
		"for us":         {"2000000", pid, 2 * time.Second, ""},
		"for another":    {"2000000", "1", 0, ""},
		"garbage":        {"soon", "", 0, "WATCHDOG_USEC"},
		"zero":           {"0", "", 0, "positive"},
		"bad pid string": {"1000", "me", 0, "WATCHDOG_PID"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Setenv("WATCHDOG_USEC", tc.usec)
			t.Setenv("WATCHDOG_PID", tc.pid)
			got, err := WatchdogInterval()
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one mentioning %s", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestHeartbeat(t *testing.T) {
	conn, path := listen(t, "n.sock")
	t.Setenv("NOTIFY_SOCKET", path)
	t.Setenv("WATCHDOG_USEC", "2000")
	t.Setenv("WATCHDOG_PID", "")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Heartbeat(ctx) }()
	for i := range 3 {
		if got := string(receive(t, conn).data); got != "WATCHDOG=1" {
			t.Fatalf("message %d: %q", i, got)
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Heartbeat returned %v, want context.Canceled", err)
	}
}

func TestHeartbeatWithoutWatchdog(t *testing.T) {
	t.Setenv("WATCHDOG_USEC", "")
	if err := Heartbeat(context.Background()); err != nil {
		t.Fatalf("Heartbeat without a watchdog: %v, want nil at once", err)
	}
}

func TestHeartbeatStopsOnSendFailure(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", filepath.Join(t.TempDir(), "gone.sock"))
	t.Setenv("WATCHDOG_USEC", "1000")
	t.Setenv("WATCHDOG_PID", "")
	err := Heartbeat(context.Background())
	if err == nil || !strings.Contains(err.Error(), "WATCHDOG=1") {
		t.Fatalf("Heartbeat to a dead socket: %v", err)
	}
}
