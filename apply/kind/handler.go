package kind

import (
	"context"
	"fmt"
	"strings"

	"trail/stepfmt"
)

// Handler runs the steps of one kind. What a step manages on the machine,
// its identity, is stepfmt's: the namespace of its kind and its target
// (stepfmt.Namespace; DIR, FILE and LINK share the namespace "path").
// Plans predict by identity, and a batch never holds two changes with the
// same identity, so the second sees the first done. The engine calls a
// handler in this order for each change of a plan:
//
//	Check / CheckRestore   what would change (Plan, and Apply right before acting)
//	Capture                the pre-image, before anything changes
//	Forward / Restore      the change itself
//
// and Drift at any time after. A handler keeps no state between calls:
// everything it needs comes from the step, the images the engine recorded,
// and the Exec. A new kind is a Handler (with the capabilities below it
// needs) and one row in apply's kind table (apply/kinds.go).
type Handler interface {
	// Check compares the target of s, as v shows it, with what s asks for
	// and returns the work Forward would do. Work.None() means the target
	// already matches and Forward will not be called. Plan and Apply share
	// this path, so a dry run reports exactly what an apply does. Check
	// changes nothing. Its error is a plan-time error: the engine adds the
	// step's source. prior is nil for an added step; for a modified one it
	// is the target's record, so that what the old step managed and the
	// new one no longer does goes back to what a fresh apply would leave
	// (its value in prior.Origin), keeping applies path independent.
	Check(v *View, s *stepfmt.Step, prior *Record) (Work, error)

	// CheckRestore is Check for Restore: the work that brings the target of
	// s back to img. It is how a removed step's reverse is planned.
	CheckRestore(v *View, s *stepfmt.Step, img Image) (Work, error)

	// Capture returns the present state of the target of s: everything
	// Restore needs to bring it back exactly (content goes into the store
	// through x.Stage). Called before the first change of an apply; the
	// image is written to the journal before the step runs, so it is both
	// the pre-image trail keeps while it manages the target and the undo
	// record of an interrupted apply.
	Capture(x *Exec, s *stepfmt.Step) (Image, error)

	// Forward makes the target match s, doing the work w that Check just
	// returned. Writes may be staged in x.Root and made durable by the
	// engine's flush at the end of the batch.
	Forward(x *Exec, s *stepfmt.Step, w Work) error

	// Restore brings the target back to img (the reverse of a step, or the
	// undo of an interrupted apply), doing the work w CheckRestore just
	// returned. It never deletes what trail did not write: what it cannot
	// restore without doing so it leaves in place and names in w.Notes.
	Restore(x *Exec, s *stepfmt.Step, img Image, w Work) error

	// Drift returns the present state of target in the shape of wrote, the
	// image Forward left (Work.After): the same state word and the same
	// attributes. The target has drifted when the two differ.
	Drift(x *Exec, target string, wrote Image) (Image, error)
}

// Verifier is implemented by kinds whose steps run after every change of an
// apply is made, such as health checks (CHECK): a Verify error rolls the
// whole apply back. What it passes to Exec.Report goes into its event.
type Verifier interface {
	Verify(ctx context.Context, x *Exec, s *stepfmt.Step) error
}

// RecordCapturer is implemented by kinds whose present state the machine
// cannot show (a command has run, or not): the engine captures their
// pre-image with the target's record, nil when trail does not manage it
// yet, in place of Capture.
type RecordCapturer interface {
	CaptureFrom(x *Exec, s *stepfmt.Step, rec *Record) (Image, error)
}

// Bringer is implemented by kinds whose change can bring more onto the
// machine than its target, such as apt installing a package's missing
// dependencies. Forward or ForwardGroup names what a step brought with
// Exec.bring. Right after the call, for every step it forwarded, the
// engine folds that list (nil when nothing came) with WithBrought into
// the change's undo image, which it journals again durably (an "amend"
// entry), and into the origin the target's record keeps. The reverse, the
// undo of a failed apply and the recovery of an interrupted one thus take
// it away again. WithBrought returns a new image and never changes img.
type Bringer interface {
	WithBrought(img Image, brought []string) (Image, error)
}

// Restarter is implemented by kinds whose steps act again when a path,
// package or command they name changed in an apply (UNIT restart-on and
// reload-on). Triggers are words as stepfmt.TriggerOf spells them: a
// path stands for itself and everything under it, package:NAME and
// command:NAME for that step. The engine calls Restart once per step and
// apply, after every change is made and before the post-apply checks,
// and only when a change that did work (a path written, changed or
// removed; a package installed, upgraded or removed; a command run or
// undone) and is not Work.Quiet is one of the triggers or under one: an
// apply that changes none of them, such as a no-op apply, restarts
// nothing. The triggers of the step as it was in the applied list count
// too, so that a path dropped from the list with its trigger still does.
//
// After an undo (a failed step, restart or check, or recovery from a
// crash) Restart is called again for every step whose triggers cover a
// path the undone apply meant to change, with the step of the list put
// back, so that what runs reads the restored files. The same rule holds:
// a change whose undo work is Quiet (a package's mark put back, or left
// as it was) counts for no trigger.
type Restarter interface {
	// Triggers lists what calls for a restart when it changes, and what
	// calls only for a reload.
	Triggers(s *stepfmt.Step) (restart, reload []string)
	// Restart acts on t. did is the work the step itself did in this
	// apply (none when it did nothing). It returns what it did, or in
	// Notes why it did nothing.
	Restart(x *Exec, s *stepfmt.Step, did Work, t Trigger) (Work, error)
	// PlanRestart returns what Restart would do, changing nothing.
	PlanRestart(x *Exec, s *stepfmt.Step, did Work, t Trigger) Work
}

// Grouper is implemented by kinds whose tool makes many changes in one
// call, such as apt-get installing a list of packages: consecutive added
// or modified steps of such a kind run as one group. Each is captured,
// journaled and checked as usual; ForwardGroup then gets the steps that
// have work, with their work, in plan order. A failure fails the group,
// and the apply rolls back every change of it.
type Grouper interface {
	ForwardGroup(x *Exec, steps []*stepfmt.Step, works []Work) error
}

// CaptureGrouper is implemented by Groupers whose pre-images are cheaper
// taken together, such as the new dependencies of a group's installs,
// which one apt-get -s predicts for all: the engine captures the changes
// of a group (its added and modified changes, or its removals) with one
// CaptureGroup, before any of them is made, in place of Capture for
// each. It returns an image per step, in order, each what Capture would
// return; a StepFailed names the step whose capture failed.
type CaptureGrouper interface {
	CaptureGroup(x *Exec, steps []*stepfmt.Step) ([]Image, error)
}

// StepFailed is what ForwardGroup or RestoreGroup returns when the change
// of one step of the group failed by itself (a group's kind that makes
// its steps one by one knows which): the error is then that step's, not
// the whole group's.
type StepFailed struct {
	Step *stepfmt.Step
	Err  error
}

func (e *StepFailed) Error() string { return e.Err.Error() }

func (e *StepFailed) Unwrap() error { return e.Err }

// SharedUndoImager is implemented by UndoImagers whose undo image is the
// whole of a set of files that several kinds change, such as USER and
// GROUP with the four account files: consecutive added or modified
// changes of kinds with the same family run as one batch that captures
// the undo image once, before the first of them, and journals it for each
// (restoring it once or many times, newest first, leaves the files as they
// were before the batch); each change's own pre-image is still captured
// right before it is made, and the batch is made durable once at its end.
// A group of such a kind (Grouper, RestoreGrouper; one kind, no target
// twice) shares one undo image too, its pre-images all captured before
// the group is made.
type SharedUndoImager interface {
	UndoImager
	UndoFamily() string
}

// RestoreGrouper is implemented by kinds whose reverses are decided and
// made together, such as apt removing the packages of an apply in one
// call: consecutive removals of such a kind run as one group, and
// RestoreGroup gets those with work, their images and their work.
type RestoreGrouper interface {
	RestoreGroup(x *Exec, steps []*stepfmt.Step, imgs []Image, works []Work) error
}

// UndoImager is implemented by kinds whose pre-image, restored through
// the kind's own tools, would not bring an interrupted or failed apply
// back exactly. The engine journals undoImage's result as the change's
// undo image in place of pre; the target's record keeps pre as its origin,
// for the reverse of the step in a later apply. The kind's CheckRestore
// and Restore recognise the undo image by its state or attributes.
type UndoImager interface {
	UndoImage(x *Exec, c stepfmt.Change, pre Image, rec *Record) (Image, error)
}

// ListPlanner is implemented by kinds that decide something over the
// whole list before any change of a plan is checked, kept in the Exec for
// the rest of the operation: the order of the account entries a list
// creates (USER and GROUP, through GROUP's row). applied returns the
// record of a target trail manages, nil for one it does not.
type ListPlanner interface {
	PlanList(x *Exec, l *stepfmt.List, applied func(stepfmt.ID) *Record) error
}

// ChangePlanner is implemented by kinds that arrange and decide their
// changes of a plan together before they are checked, such as the PKG
// removals made as one apt-get decision: it may move its own changes
// within p (a reverse only later), plan a step of its kind the diff left
// unchanged as a modify of itself (whose record changes, OriginTaker),
// and keeps its decision in the Exec.
type ChangePlanner interface {
	PlanChanges(x *Exec, p *stepfmt.Plan, l *stepfmt.List, applied func(stepfmt.ID) *Record)
}

// Rebaser is implemented by kinds whose step changes part of a target
// another party owns, such as line edits of a package's file (EDIT): when
// that party replaced the target since trail last wrote it (a package
// upgrade), Rebase says so, and what the change found there, its
// pre-image pre, becomes the target's origin in place of the one first
// recorded: the base the step works from from then on, and what its
// reverse gives back. rec is the target's record; a sealed pre-image is
// decrypted through x to be compared.
type Rebaser interface {
	Rebase(x *Exec, rec *Record, pre Image) bool
}

// OriginTaker is implemented by kinds whose removal of one step can leave
// what it made on a target another step keeps, such as the account a
// package's new version made when the install that upgraded it goes and
// the package's block keeps it at that version: for a modified or
// unchanged step, TakeOrigin returns the origin its record keeps from
// now on, given the one it kept (origin), as v shows the target once the
// plan's removals are made. The record is written with the apply's
// others, so a crash leaves the old record or the new one.
type OriginTaker interface {
	TakeOrigin(v *View, s *stepfmt.Step, origin Image) (Image, error)
}

// Recoverer is implemented by kinds whose tools a killed trail can leave
// half done in a way that stops the undo (a shadow tool's lock, a dpkg
// run cut off): recovery calls it, in table order, before it undoes the
// interrupted apply. done says what it finished or removed, for the
// rollback event ("" for nothing).
type Recoverer interface {
	RecoverTools(x *Exec) (done string, err error)
}

// Refresher is implemented by kinds whose tool keeps state derived from
// paths other steps write, outside any target, such as apt's lists, which
// apt-get update fetches from the sources: after an undo (a failed apply,
// or recovery of an interrupted one) has put the steps undone back, the
// engine calls Refresh once, so that the state matches the paths put back
// as it did before the apply. It is best effort: the undo has happened,
// and what it did or why it failed goes into the rollback event.
type Refresher interface {
	Refresh(x *Exec, undone []*stepfmt.Step) (done string, err error)
}

// Shipper is implemented by kinds whose change can replace or remove
// files other steps manage, such as a package upgrade, which writes every
// file the package ships (a conffile too, when trail's edits left it as
// the package shipped it), or its removal. Right after a batch in which a
// change (forward or reverse) of such a kind did work, the engine asks
// Shipped for the paths that step's target ships now, checks each path
// step of the list on one of those or of the paths it shipped before the
// batch, unchanged or changed before the batch, against the machine, and
// plans each that no longer matches again right after the batch (an
// unchanged one as a modify of itself): captured, journaled and counted
// like any change, so that the managed content holds when the apply
// ends. The pre-images of the steps on the paths it shipped before that
// the plan leaves or changes after it are journaled ahead of the change,
// so that an undo, whose tool writes them again, puts back exactly what
// was there. Shipping names, before the changes of a batch, the paths
// they will ship that their targets may not ship now (packages installed
// or upgraded: the files of the archives they unpack, named together as
// the batch's one tool call would); the steps on those are guarded too,
// so that an undo that removes them (the purge of a package the apply
// installed) ends with their pre-images.
type Shipper interface {
	Shipped(x *Exec, s *stepfmt.Step) ([]string, error)
	Shipping(x *Exec, steps []*stepfmt.Step) ([]string, error)
}

// Trigger is why a step is restarted.
type Trigger struct {
	Why    []string // the changed paths, package:NAME and command:NAME that matched, sorted
	Reload bool     // only reload triggers matched
	Undone bool     // the paths were put back by an undo
}

// Word is "reload" or "restart".
func (t Trigger) Word() string {
	if t.Reload {
		return "reload"
	}
	return "restart"
}

// Reason says why, naming a few paths.
func (t Trigger) Reason() string {
	word := "changed: "
	if t.Undone {
		word = "put back: "
	}
	const show = 3
	if len(t.Why) <= show {
		return word + strings.Join(t.Why, ", ")
	}
	return fmt.Sprintf("%s%s and %d more", word, strings.Join(t.Why[:show], ", "), len(t.Why)-show)
}
