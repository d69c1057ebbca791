// Package kind is the contract between the engine (package apply) and the
// step kinds (the packages under apply/kinds): everything a kind may use
// and everything the engine asks of it, and nothing else.
//
//   - Handler (handler.go) is what every kind implements: Check and
//     CheckRestore plan, Capture saves the pre-image, Forward and Restore
//     act, Drift reads the present state back. A step's identity is not
//     the kind's to say: it is stepfmt's (stepfmt.Namespace of its kind,
//     and its target).
//   - The optional capabilities, in the same file, are what a kind adds
//     when the engine must treat it apart: Verifier (post-apply checks),
//     RecordCapturer, Bringer, UndoImager, Grouper and RestoreGrouper
//     (one tool call for many changes), Restarter, ListPlanner and
//     ChangePlanner (decisions over a whole plan), Recoverer (tools a
//     crash left half done), Matcher (imagetext.go: a target that matches
//     what trail wrote, told from the record's text without Drift). The engine looks each up with a type
//     assertion on the kind's row; a kind without it is run the plain way.
//   - The environment: Exec (exec.go) is one operation — the root every
//     target lives under, the content store (Blobs), the drift index
//     (Hashes), owner and group names resolved in the root's account files
//     (accounts.go), what a step reports and brings; View is what a check
//     sees, the machine overlaid during a plan with what earlier changes
//     will leave.
//   - The values: Image (a target's state as its kind records it), Record
//     (what trail keeps about a target), Work (what a check found to do),
//     blob keys (blob.go).
//
// A kind keeps no state between calls; a decision it makes over a whole
// plan is kept in the Exec (Exec.Keep) under a key of its own. A new kind
// is a Handler in a package of its own under apply/kinds and one row in
// apply's kind table.
package kind
