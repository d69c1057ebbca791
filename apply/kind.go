package apply

import (
	"context"

	"trail/apply/kind"
	"trail/stepfmt"
)

// Handler runs the steps of one kind. Apart from Identity, the engine calls
// it in this order for each change of a plan:
//
//	Check / CheckRestore   what would change (Plan, and Apply right before acting)
//	Capture                the pre-image, before anything changes
//	Forward / Restore      the change itself
//
// and Drift at any time after. A handler keeps no state between calls:
// everything it needs comes from the step, the images the engine recorded,
// and the Exec. A new kind is one file with a Handler and one row in
// handlers below.
type Handler interface {
	// Identity names what s manages on the machine: a namespace and a key
	// in it. Two steps with the same identity touch the same thing, even
	// when their kinds differ (DIR, FILE and LINK share the namespace
	// "path"). Plans predict by identity, and a batch never holds two
	// changes with the same identity, so the second sees the first done.
	Identity(s *stepfmt.Step) (namespace, key string)

	// Check compares the target of s, as v shows it, with what s asks for
	// and returns the work Forward would do. Work.None() means the target
	// already matches and Forward will not be called. Plan and Apply share
	// this path, so a dry run reports exactly what an apply does. Check
	// changes nothing. Its error is a plan-time error: the engine adds the
	// step's source. prior is nil for an added step; for a modified one it
	// is the target's record, so that what the old step managed and the
	// new one no longer does goes back to what a fresh apply would leave
	// (its value in prior.Origin), keeping applies path independent.
	Check(v *View, s *stepfmt.Step, prior *kind.Record) (kind.Work, error)

	// CheckRestore is Check for Restore: the work that brings the target of
	// s back to img. It is how a removed step's reverse is planned.
	CheckRestore(v *View, s *stepfmt.Step, img kind.Image) (kind.Work, error)

	// Capture returns the present state of the target of s: everything
	// Restore needs to bring it back exactly (content goes into the store
	// through x.Stage). Called before the first change of an apply; the
	// image is written to the journal before the step runs, so it is both
	// the pre-image trail keeps while it manages the target and the undo
	// record of an interrupted apply.
	Capture(x *Exec, s *stepfmt.Step) (kind.Image, error)

	// Forward makes the target match s, doing the work w that Check just
	// returned. Writes may be staged in x.Root and made durable by the
	// engine's flush at the end of the batch.
	Forward(x *Exec, s *stepfmt.Step, w kind.Work) error

	// Restore brings the target back to img (the reverse of a step, or the
	// undo of an interrupted apply), doing the work w CheckRestore just
	// returned. It never deletes what trail did not write: what it cannot
	// restore without doing so it leaves in place and names in w.Notes.
	Restore(x *Exec, s *stepfmt.Step, img kind.Image, w kind.Work) error

	// Drift returns the present state of target in the shape of wrote, the
	// image Forward left (Work.After): the same state word and the same
	// attributes. The target has drifted when the two differ.
	Drift(x *Exec, target string, wrote kind.Image) (kind.Image, error)
}

// Verifier is implemented by kinds whose steps run after every change of an
// apply is made, such as health checks (CHECK): a Verify error rolls the
// whole apply back. What it passes to Exec.Report goes into its event.
type Verifier interface {
	Verify(ctx context.Context, x *Exec, s *stepfmt.Step) error
}

// recordCapturer is implemented by kinds whose present state the machine
// cannot show (a command has run, or not): the engine captures their
// pre-image with the target's record, nil when trail does not manage it
// yet, in place of Capture.
type recordCapturer interface {
	captureFrom(x *Exec, s *stepfmt.Step, rec *kind.Record) (kind.Image, error)
}

// bringer is implemented by kinds whose change can bring more onto the
// machine than its target, such as apt installing a package's missing
// dependencies. Forward or ForwardGroup names what a step brought with
// Exec.bring. Right after the call, for every step it forwarded, the
// engine folds that list (nil when nothing came) with withBrought into
// the change's undo image, which it journals again durably (an "amend"
// entry), and into the origin the target's record keeps. The reverse, the
// undo of a failed apply and the recovery of an interrupted one thus take
// it away again. withBrought returns a new image and never changes img.
type bringer interface {
	withBrought(img kind.Image, brought []string) (kind.Image, error)
}

// kindRow is one row of the kind table.
type kindRow struct {
	kind stepfmt.Kind
	h    Handler
	// path kinds manage a file-system path and run together in batches
	// whose writes are made durable at once; any other kind runs alone,
	// after everything before it is durable.
	path bool
}

// handlers is the table of kinds apply can run.
var handlers = []kindRow{
	{stepfmt.KindDir, dirKind{}, true},
	{stepfmt.KindFile, fileKind{}, true},
	{stepfmt.KindLink, linkKind{}, true},
	{stepfmt.KindGroup, groupKind{}, false},
	{stepfmt.KindUser, userKind{}, false},
	{stepfmt.KindCommand, commandKind{}, false},
	{stepfmt.KindCheck, checkKind{}, false},
	{stepfmt.KindPackage, pkgKind{}, false},
	{stepfmt.KindUnit, unitKind{}, false},
}

func handlerOf(k stepfmt.Kind) *kindRow {
	for i := range handlers {
		if handlers[i].kind == k {
			return &handlers[i]
		}
	}
	return nil
}
