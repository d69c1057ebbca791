package host

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"trail/apply"
	"trail/report"
)

// maxShown bounds the step lines an apply prints for people; the journal
// gets every one.
const maxShown = 30

// onEvent turns what the engine did into a journal record and, for the
// changes people care about, a line on Out. Nothing keeps the event: an
// apply of 100,000 files reports as many.
func (h *Host) onEvent(ev apply.Event) {
	if ev.Type == apply.EventStep && h.sink() == nil {
		h.showStep(ev) // no journal: no record to make
		return
	}
	r := report.Record{
		Commit:     ev.Commit,
		Branch:     ev.Branch,
		Generation: uint64(max(ev.Generation, 0)),
		Step:       ev.Step,
		Source:     ev.Source,
		Result:     ev.Result,
		Time:       ev.Time,
	}
	if ev.Duration > 0 {
		r.Extra = map[string]string{"TRAIL_DURATION": ev.Duration.String()}
	}
	switch ev.Type {
	case apply.EventApplyStart:
		h.shown = 0 // each apply (a heal by the watcher too) shows its own steps
		r.Event, r.Priority = report.EventApply, report.PriorityNotice
		r.Message = fmt.Sprintf("applying %s", Short(ev.Commit))
		r.Result = apply.ResultRunning
	case apply.EventApplyEnd:
		r.Event = report.EventApply
		c := ev.Counts
		r.Message = fmt.Sprintf("apply of %s %s: %d added, %d modified, %d removed, %d unchanged",
			Short(ev.Commit), ev.Result, c.Added, c.Modified, c.Removed, c.Unchanged)
		if ev.Err != nil {
			r.Message += ": " + ev.Err.Error()
		}
		if ev.Result != apply.ResultOK && ev.Result != apply.StepUnchanged {
			r.Priority = report.PriorityErr
		}
	case apply.EventStep:
		r.Event = report.EventStep
		r.Message = stepMessage(ev)
		if !h.showStep(ev) {
			r.Priority = report.PriorityDebug
		}
	case apply.EventStepFailed:
		r.Event, r.Result = report.EventFailure, report.ResultFailed
		r.Message = fmt.Sprintf("%s failed: %v", ev.Step, ev.Err)
		fmt.Fprintf(h.Err, "trail: %s%s failed: %v\n", ev.Step, at(ev.Source), ev.Err)
	case apply.EventDrift:
		if !h.applying {
			// A status or metrics run looking: the watcher and applies report drift.
			return
		}
		r.Event, r.Priority = report.EventDrift, report.PriorityWarning
		r.Message = abbrevHashes(fmt.Sprintf("%s drifted: %s", ev.Step, ev.Detail))
		fmt.Fprintf(h.Out, "  drift: %s%s %s\n", abbrevHashes(ev.Step), at(ev.Source), driftSaved(ev.Result))
	case apply.EventHeal:
		r.Event, r.Priority = report.EventHeal, report.PriorityWarning
		r.Message = abbrevHashes(fmt.Sprintf("%s healed: %s", ev.Step, ev.Detail))
	case apply.EventRollback:
		r.Event, r.Priority = report.EventRollback, report.PriorityWarning
		r.Message = "undid the changes of the apply: " + ev.Detail
		fmt.Fprintf(h.Err, "trail: undid the changes of this apply; the host is back at the generation before\n")
	case apply.EventCheck:
		r.Event = report.EventCheck
		r.Message = fmt.Sprintf("%s: %s", ev.Step, ev.Result)
		if ev.Detail != "" {
			r.Message += " (" + ev.Detail + ")"
		}
		if ev.Err != nil {
			r.Message += ": " + ev.Err.Error()
			r.Priority = report.PriorityErr
		}
		fmt.Fprintf(h.Out, "  = %s%s -> %s (%s)\n", ev.Step, at(ev.Source), ev.Result, ev.Duration.Round(time.Millisecond))
	case apply.EventRefusal:
		r.Event, r.Priority = report.EventRefusal, report.PriorityErr
		r.Message = "refused: " + errText(ev.Err, ev.Detail)
	default:
		r.Event = report.Event(ev.Type)
		r.Message = string(ev.Type) + " " + ev.Detail
	}
	h.send(r)
}

// showStep prints a step that changed something for people, the first
// maxShown of an apply, and counts it; it reports whether the step
// changed something.
func (h *Host) showStep(ev apply.Event) bool {
	if ev.Result != apply.StepChanged && ev.Result != apply.StepKept {
		return false
	}
	h.shown++
	if h.shown <= maxShown {
		fmt.Fprintf(h.Out, "  %s %s%s\n", ev.Op.Sign(), abbrevHashes(ev.Step), at(ev.Source))
		if ev.Result == apply.StepKept && ev.Detail != "" {
			fmt.Fprintf(h.Out, "      kept: %s\n", ev.Detail)
		}
	}
	return true
}

// stepText reports whether the text of the next step event would be
// used (apply.Options.StepText): journaled, or printed. With the journal
// off, the steps after the first maxShown that changed something are
// only counted.
func (h *Host) stepText() bool {
	return h.sink() != nil || h.shown < maxShown
}

var longHash = regexp.MustCompile(`(sha256:[0-9a-f]{12})[0-9a-f]{52}`)

// abbrevHashes shortens content hashes for people, as git does.
func abbrevHashes(step string) string { return longHash.ReplaceAllString(step, "$1…") }

func stepMessage(ev apply.Event) string {
	msg := string(ev.Op) + " " + ev.Step + ": " + ev.Result
	if ev.Detail != "" {
		msg += " (" + ev.Detail + ")"
	}
	return msg
}

func at(source string) string {
	if source == "" {
		return ""
	}
	return "  @" + source
}

func errText(err error, detail string) string {
	if err != nil {
		return strings.TrimSpace(err.Error())
	}
	return detail
}

// driftSaved says what an apply saved of a target found drifted, from
// its EventDrift's Result.
func driftSaved(result string) string {
	switch result {
	case apply.DriftGone:
		return "was removed by hand: nothing there to save"
	case apply.DriftStored:
		return "was changed by hand: its content saved in the store before trail changed it"
	}
	return "was changed by hand: saved in this apply's undo record before trail changed it"
}
