// Package report tells the host's service manager, log and monitoring what
// trail did, through the channels a Debian admin already uses.
//
// # Records
//
// A Record is one reportable event: an apply, a step, a drift, a heal, a
// rollback, a refusal, a failure. Callers map their own events to Records;
// report imports nothing of the rest of trail. Every record carries the
// commit, branch, generation, step and source it concerns, so that
// "journalctl -t trail" and "journalctl TRAIL_COMMIT=<hash>" find it.
// Fields:
//
//	MESSAGE            Record.Message (required)
//	PRIORITY           Record.Priority, or derived from Event and Result
//	SYSLOG_IDENTIFIER  always "trail"
//	TRAIL_EVENT        Record.Event (required)
//	TRAIL_COMMIT       Record.Commit        (omitted when empty)
//	TRAIL_BRANCH       Record.Branch        (omitted when empty)
//	TRAIL_GENERATION   Record.Generation    (omitted when zero)
//	TRAIL_STEP         Record.Step          (omitted when empty)
//	TRAIL_SOURCE       Record.Source        (omitted when empty)
//	TRAIL_RESULT       Record.Result        (omitted when empty)
//	any other          Record.Extra, names as journald wants them
//	                   (each omitted when empty)
//
// A record that breaks these rules (no event, no message, a field name
// journald would drop, a field that shadows one above) is refused with an
// error naming the field, and nothing is sent.
//
// # Sinks
//
// Journal speaks the journald native protocol to a configurable socket;
// entries too large for one datagram travel in a sealed memfd, and single
// values longer than Journal.MaxValue are cut, with TRAIL_TRUNCATED naming
// the fields that were. Logfmt writes the same record as one logfmt line.
// Open picks the journal when its socket exists and logfmt otherwise, and
// falls back to logfmt for any record the journal does not take, so a
// record is never dropped silently.
//
// # Service manager
//
// Ready, Status, Watchdog and Stopping send sd_notify messages to
// NOTIFY_SOCKET (a path, or an abstract socket starting with "@"); they do
// nothing when the variable is unset. WatchdogInterval reads WATCHDOG_USEC
// and Heartbeat keeps the watchdog fed.
//
// # Metrics
//
// WriteMetrics writes a node_exporter textfile from Metrics, formatted by
// the Prometheus client library and replaced atomically: a temp file in
// the same directory, fsync, rename, fsync of the directory. A reader never
// sees a half-written file and a crash never leaves a temp file that
// node_exporter would read (temp names do not end in ".prom").
package report
