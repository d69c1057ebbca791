package host

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"trail/internal/atomicfile"
)

// hostFile is the host's own record in the state directory, beside the
// engine's: the last failure and the counters metrics need over the host's
// whole history.
const hostFile = "host.json"

// Failure is a commit that could not be applied.
type Failure struct {
	Commit string    `json:"commit"`
	Time   time.Time `json:"time"`
	Error  string    `json:"error"`
	Step   string    `json:"step,omitempty"`
	// Refused is a mass removal the guard stopped: nothing was tried.
	Refused bool `json:"refused,omitempty"`
	// Untrusted is a commit whose signature did not verify: nothing was
	// compiled or tried.
	Untrusted bool   `json:"untrusted,omitempty"`
	Source    string `json:"source,omitempty"`
	// Generation is the failed generation the engine recorded; 0 when the
	// commit failed before the engine saw it (it did not compile).
	Generation int `json:"generation,omitempty"`
}

// record is the content of host.json.
type record struct {
	// Failure is set from a failed apply until the next successful one.
	Failure *Failure `json:"failure,omitempty"`
	// Failures counts every failed apply, compile errors included.
	Failures int `json:"failures_total"`
	// PullRefused is set while the upstream is not a descendant of HEAD.
	PullRefused *PullRefusal `json:"pull_refused,omitempty"`
	// PullError is set while git fetch fails; PullFailures counts every
	// failed fetch and LastPullSuccess is the last one that worked.
	PullError       *PullProblem `json:"pull_error,omitempty"`
	PullFailures    int          `json:"pull_failures_total,omitempty"`
	LastPullSuccess time.Time    `json:"last_pull_success,omitzero"`
}

func (h *Host) recordPath() string { return filepath.Join(h.Settings.state(), hostFile) }

func (h *Host) loadRecord() (record, error) {
	var r record
	data, err := os.ReadFile(h.recordPath())
	if errors.Is(err, fs.ErrNotExist) {
		return r, nil
	}
	if err != nil {
		return r, fmt.Errorf("state: %w", err)
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return r, fmt.Errorf("state: %s is damaged (%v): remove it to start the failure count again", h.recordPath(), err)
	}
	return r, nil
}

// saveRecord writes host.json atomically.
func (h *Host) saveRecord(r record) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(h.recordPath(), append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	return nil
}

// noteFailure records f as the last failure and counts it.
func (h *Host) noteFailure(f Failure) {
	r, err := h.loadRecord()
	if err != nil {
		fmt.Fprintf(h.Err, "trail: %v\n", err)
	}
	r.Failure = &f
	r.Failures++
	if err := h.saveRecord(r); err != nil {
		fmt.Fprintf(h.Err, "trail: %v\n", err)
	}
}

// clearFailure forgets the last failure after a successful apply.
func (h *Host) clearFailure() {
	r, err := h.loadRecord()
	if err != nil || r.Failure == nil {
		return
	}
	r.Failure = nil
	if err := h.saveRecord(r); err != nil {
		fmt.Fprintf(h.Err, "trail: %v\n", err)
	}
}
