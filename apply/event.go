package apply

import (
	"time"

	"trail/stepfmt"
)

// EventType names what an Event reports.
type EventType string

// The events an engine reports through Options.OnEvent.
const (
	EventApplyStart EventType = "apply-start" // an apply begins changing the machine
	EventStep       EventType = "step"        // a step was run (Result: changed, unchanged or kept)
	EventStepFailed EventType = "step-failed" // a step failed; a rollback follows
	EventDrift      EventType = "drift"       // a target differs from what trail wrote
	EventHeal       EventType = "heal"        // a drifted target was put back
	EventRollback   EventType = "rollback"    // an apply's changes were undone (failure or crash)
	EventRefusal    EventType = "refusal"     // an apply was refused before any change
	EventCheck      EventType = "check"       // a post-apply check ran (Result: ok or failed)
	EventApplyEnd   EventType = "apply-end"   // an apply ended (Result: a Result* constant or "unchanged")
)

// Step results an EventStep carries.
const (
	StepChanged   = "changed"
	StepUnchanged = "unchanged"
	StepKept      = "kept" // a directory trail created holds other files: left in place
)

// What an EventDrift's target left saved (its Result).
const (
	DriftStored = "content saved in the store" // a content changed by hand
	DriftSaved  = "saved"                      // in the change's undo image
	DriftGone   = "gone: nothing to save"      // removed by hand
)

// StepOp is what an EventStep did with its step.
type StepOp string

// The operations an EventStep reports: the plan's three, the undo of a
// change (a failed apply, recovery) and a unit's restart or reload.
const (
	OpAdd     StepOp = "add"
	OpModify  StepOp = "modify"
	OpRemove  StepOp = "remove"
	OpUndo    StepOp = "undo"
	OpRestart StepOp = "restart"
)

// opOf is the StepOp of a plan operation.
func opOf(o stepfmt.Op) StepOp {
	switch o {
	case stepfmt.OpAdd:
		return OpAdd
	case stepfmt.OpModify:
		return OpModify
	}
	return OpRemove
}

// Sign is the diff -u style mark people see before the step: + for an
// add, ~ for a modify, - for a removal or an undo, ? for anything else.
func (o StepOp) Sign() string {
	switch o {
	case OpAdd:
		return "+"
	case OpModify:
		return "~"
	case OpRemove, OpUndo:
		return "-"
	}
	return "?"
}

// Event is one thing the engine did, for journald, metrics and people. It
// is a plain value; the engine never waits on what a consumer does with it
// beyond the call.
type Event struct {
	Type       EventType
	Time       time.Time
	Commit     string
	Branch     string
	Generation int
	Step       string // the step in the step language, without its source
	Source     string // where the step came from: file:line
	Op         StepOp // of an EventStep
	Result     string
	Detail     string // what changed, or what was left alone and why
	Err        error
	Duration   time.Duration
	Counts     Counts
}
