package report

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
)

// Ready tells systemd that start-up is done (Type=notify units wait for
// it) and sets the unit's status line. Like every notify function it does
// nothing when NOTIFY_SOCKET is unset, i.e. when not run by systemd.
func Ready(status string) error {
	return notify(daemon.SdNotifyReady, status)
}

// Status sets the line "systemctl status" shows under the unit.
func Status(status string) error {
	return notify("STATUS=" + oneLine(status))
}

// Watchdog tells systemd the service is alive; see Heartbeat.
func Watchdog() error {
	return notify(daemon.SdNotifyWatchdog)
}

// Stopping tells systemd the service is shutting down.
func Stopping(status string) error {
	return notify(daemon.SdNotifyStopping, status)
}

// notify sends state, plus STATUS= when status is non-empty, in one
// datagram, so systemd never sees READY without the status that goes with
// it.
func notify(state string, status ...string) error {
	msg := state
	if len(status) > 0 && status[0] != "" {
		msg += "\nSTATUS=" + oneLine(status[0])
	}
	if _, err := daemon.SdNotify(false, msg); err != nil {
		return fmt.Errorf("report: sd_notify %s: %w", strings.ReplaceAll(msg, "\n", " "), err)
	}
	return nil
}

// oneLine keeps a status to one line: a newline would start a new
// assignment in the notify protocol.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// WatchdogInterval is the WatchdogSec= systemd set for this process
// (WATCHDOG_USEC), or 0 when there is no watchdog or it is meant for
// another process (WATCHDOG_PID).
func WatchdogInterval() (time.Duration, error) {
	d, err := daemon.SdWatchdogEnabled(false)
	if err != nil {
		return 0, fmt.Errorf("report: watchdog: %w: check WatchdogSec= in the unit", err)
	}
	return d, nil
}

// Heartbeat sends WATCHDOG=1 at half the watchdog interval, as systemd
// advises, until ctx is done; it returns at once when there is no
// watchdog. It returns ctx's error, or the first failed send.
func Heartbeat(ctx context.Context) error {
	d, err := WatchdogInterval()
	if err != nil || d == 0 {
		return err
	}
	tick := time.NewTicker(d / 2)
	defer tick.Stop()
	for {
		if err := Watchdog(); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}
