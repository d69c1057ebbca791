package apply

import (
	"trail/apply/kind"
	"trail/apply/state"
)

// The names a caller of the engine needs from its parts, so that host,
// watch and cmd/trail import apply alone.

// Image is the state of one target as its kind records it (see kind.Image).
type Image = kind.Image

// Drift policies, as the step language's drift attribute spells them.
const (
	PolicyReport = kind.PolicyReport
	PolicyHeal   = kind.PolicyHeal
	PolicyIgnore = kind.PolicyIgnore
)

// The state directory's values (see package state).
type (
	Generation  = state.Generation
	Meta        = state.Meta
	Counts      = state.Counts
	DriftNote   = state.DriftNote
	Store       = state.Store
	LockError   = state.LockError
	BlobProblem = state.BlobProblem
	FsckReport  = state.FsckReport
	FsckProblem = state.FsckProblem
)

// DefaultStateDir is where trail keeps its state unless told otherwise.
const DefaultStateDir = state.DefaultStateDir

// The results a generation records.
const (
	ResultOK          = state.ResultOK
	ResultFailed      = state.ResultFailed
	ResultRefused     = state.ResultRefused
	ResultInterrupted = state.ResultInterrupted
	ResultRunning     = state.ResultRunning
)

// ErrStateDamaged marks an error in trail's own state directory (see
// state.ErrStateDamaged).
var ErrStateDamaged = state.ErrStateDamaged

// Fsck checks the state directory dir thoroughly (see state.Fsck).
func Fsck(dir string) (*FsckReport, error) { return state.Fsck(dir) }
