package host

import (
	"fmt"
	"strings"

	"trail/apply"
	"trail/report"
)

// ReportDrift sends one drifted target to the journal, at warning, with
// the applied commit and what changed.
func (h *Host) ReportDrift(d apply.Drift) {
	r := report.Record{
		Event:    report.EventDrift,
		Priority: report.PriorityWarning,
		Step:     string(d.ID.Kind) + " " + d.ID.Target,
		Result:   d.Policy,
		Extra:    map[string]string{"TRAIL_CHANGED": strings.Join(d.Changed, ",")},
	}
	r.Message = fmt.Sprintf("%s drifted: %s differ from what trail wrote (policy %s)", r.Step, strings.Join(d.Changed, ", "), d.Policy)
	if d.Err != nil {
		r.Message = fmt.Sprintf("%s cannot be checked: %v", r.Step, d.Err)
	}
	h.stamp(&r)
	h.send(r)
}

// Notice sends a record about trail itself, such as the watcher starting.
func (h *Host) Notice(ev report.Event, msg string) {
	r := report.Record{Event: ev, Message: msg, Priority: report.PriorityInfo}
	h.stamp(&r)
	h.send(r)
}

// stamp fills in the applied commit, branch and generation.
func (h *Host) stamp(r *report.Record) {
	e, err := h.Engine()
	if err != nil {
		return
	}
	if g, err := e.Current(); err == nil && g != nil {
		r.Commit, r.Branch, r.Generation = g.Commit, g.Branch, uint64(g.Number)
	}
}
