package report

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Event names what happened; it becomes TRAIL_EVENT. Callers may use their
// own names too: an unknown event is reported at info unless its result
// says it failed.
type Event string

// The events trail reports.
const (
	EventApply    Event = "apply"    // a commit was applied (or re-applied)
	EventStep     Event = "step"     // one step ran forward or in reverse
	EventDrift    Event = "drift"    // a managed target was changed by hand
	EventHeal     Event = "heal"     // a drifted target was put back
	EventRollback Event = "rollback" // a failed check rolled the host back
	EventRefusal  Event = "refusal"  // a commit was not applied on purpose
	EventFailure  Event = "failure"  // trail could not do what it was asked
	EventCheck    Event = "check"    // a health check ran
	EventWatch    Event = "watch"    // the watcher started or stopped
	EventPull     Event = "pull"     // trail pull could not reach the upstream
)

// The results trail reports in TRAIL_RESULT.
const (
	ResultOK      = "ok"
	ResultFailed  = "failed"
	ResultSkipped = "skipped"
)

// Priority is a syslog severity. Its zero value, PriorityAuto, means
// "derive it from the event and the result", so a zero Record is honest.
type Priority int8

// Priorities, most severe first; the journal stores Syslog().
const (
	PriorityAuto Priority = iota
	PriorityEmerg
	PriorityAlert
	PriorityCrit
	PriorityErr
	PriorityWarning
	PriorityNotice
	PriorityInfo
	PriorityDebug
)

var priorityNames = [...]string{"auto", "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"}

// String is the syslog name of p ("err", "warning", "info", ...).
func (p Priority) String() string {
	if p < 0 || int(p) >= len(priorityNames) {
		return "priority(" + strconv.Itoa(int(p)) + ")"
	}
	return priorityNames[p]
}

// Syslog is the number journald stores in PRIORITY (0 emerg … 7 debug).
func (p Priority) Syslog() int { return int(p) - 1 }

// Record is one reportable event. See the package documentation for the
// journald field each member becomes.
type Record struct {
	Event      Event
	Message    string
	Priority   Priority
	Commit     string
	Branch     string
	Generation uint64
	Step       string // e.g. "FILE /etc/motd"
	Source     string // e.g. "hosts/web.hcl:12"
	Result     string
	// Extra holds further journald fields, e.g. TRAIL_TARGET.
	Extra map[string]string
	// Time stamps the logfmt line; journald stamps entries itself. Zero
	// means the time of sending.
	Time time.Time
}

// Level is the record's priority: Priority when set, otherwise err for a
// failed result, a failure or a refusal, warning for drift, heal and
// rollback, and info for everything else.
func (r Record) Level() Priority {
	if r.Priority != PriorityAuto {
		return r.Priority
	}
	if r.Result == ResultFailed {
		return PriorityErr
	}
	switch r.Event {
	case EventFailure, EventRefusal:
		return PriorityErr
	case EventDrift, EventHeal, EventRollback:
		return PriorityWarning
	}
	return PriorityInfo
}

// Field is one journald field of a record, in sending order.
type Field struct {
	Name, Value string
}

// Identifier is the SYSLOG_IDENTIFIER of every record: journalctl -t trail.
const Identifier = "trail"

// core lists the fields a record sets itself; Record.Extra may not
// shadow them.
var core = []string{
	"MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER", "TRAIL_EVENT", "TRAIL_COMMIT",
	"TRAIL_BRANCH", "TRAIL_GENERATION", "TRAIL_STEP", "TRAIL_SOURCE",
	"TRAIL_RESULT", "TRAIL_TRUNCATED",
}

// Fields returns the record's journald fields in a fixed order: the core
// fields, then the extra fields sorted by name. It fails, naming the
// field, when the record cannot be sent as it is.
func (r Record) Fields() ([]Field, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	fs := make([]Field, 0, len(core)+len(r.Extra))
	add := func(name, value string) {
		if value != "" {
			fs = append(fs, Field{name, value})
		}
	}
	add("MESSAGE", r.Message)
	add("PRIORITY", strconv.Itoa(r.Level().Syslog()))
	add("SYSLOG_IDENTIFIER", Identifier)
	add("TRAIL_EVENT", string(r.Event))
	add("TRAIL_COMMIT", r.Commit)
	add("TRAIL_BRANCH", r.Branch)
	if r.Generation != 0 {
		add("TRAIL_GENERATION", strconv.FormatUint(r.Generation, 10))
	}
	add("TRAIL_STEP", r.Step)
	add("TRAIL_SOURCE", r.Source)
	add("TRAIL_RESULT", r.Result)
	for _, k := range slices.Sorted(maps.Keys(r.Extra)) {
		add(k, r.Extra[k])
	}
	return fs, nil
}

func (r Record) check() error {
	if r.Event == "" {
		return errors.New("report: record has no event: set Record.Event (e.g. report.EventApply)")
	}
	if r.Message == "" {
		return fmt.Errorf("report: %s record has no message: set Record.Message", r.Event)
	}
	if r.Priority < PriorityAuto || r.Priority > PriorityDebug {
		return fmt.Errorf("report: %s record: priority %d out of range: use a report.Priority constant", r.Event, r.Priority)
	}
	keys := make(map[string]string, len(r.Extra))
	for _, name := range slices.Sorted(maps.Keys(r.Extra)) {
		if err := checkFieldName(name); err != nil {
			return fmt.Errorf("report: %s record: %w", r.Event, err)
		}
		k := logfmtKey(name)
		if other, ok := keys[k]; ok {
			return fmt.Errorf("report: %s record: fields %q and %q share the logfmt key %q: drop one", r.Event, other, name, k)
		}
		keys[k] = name
	}
	return nil
}

// checkFieldName applies journald's rules for field names, which it would
// otherwise apply by dropping the field without a word, and keeps extras
// from shadowing the core fields or each other's logfmt keys.
func checkFieldName(name string) error {
	switch {
	case name == "":
		return errors.New("empty field name")
	case len(name) > 64:
		return fmt.Errorf("field %.20q…: name longer than 64 bytes", name)
	case name[0] == '_':
		return fmt.Errorf("field %q: names starting with '_' are journald's own", name)
	case name[0] >= '0' && name[0] <= '9':
		return fmt.Errorf("field %q: name must not start with a digit", name)
	case slices.Contains(core, name):
		return fmt.Errorf("field %q: set by the record itself, use the Record member instead", name)
	}
	for _, c := range name {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '_' {
			return fmt.Errorf("field %q: name may hold only A-Z, 0-9 and '_'", name)
		}
	}
	if k := logfmtKey(name); slices.Contains(logfmtReserved, k) {
		return fmt.Errorf("field %q: its logfmt key %q is taken by a core field, choose another name", name, k)
	}
	return nil
}

// logfmtKey is the logfmt key of a journald field: lower case, without the
// TRAIL_ prefix.
func logfmtKey(name string) string {
	return strings.ToLower(strings.TrimPrefix(name, "TRAIL_"))
}
