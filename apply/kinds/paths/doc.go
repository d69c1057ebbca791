// Package paths is the path family of step kinds: DIR, FILE and LINK, and
// EDIT and ATTRS (edit.go, attrs.go), which manage part of a file that is
// there already (its lines, its attributes); one namespace ("path")
// whatever kind manages it. validate.go runs a FILE's or EDIT's checker
// on new content before it is written. A target is resolved under
// the root without following a symlink in any component (internal/fsx);
// files and symlinks are written under a temporary name next to the
// target and renamed into place by the engine's batch flush, so a reader
// of the directory sees a file appear whole, as dpkg's .dpkg-new does.
// One exception: a file where nothing was, in a directory the same apply
// (or undo) made, is written at its name (fsx.Root.Create), which spares
// a first apply into an empty place a rename a file. No daemon, cron or
// inotify watcher was reading a directory that did not exist when the
// apply began; a crash before the batch is durable can leave such a file
// torn, and recovery removes it, as its journaled undo image (absent)
// says, before anything counts it applied. A new file in a directory that
// was there before is staged and renamed, as a replaced one is.
//
// object.go unpacks an Image of a path (Object) and reads one from the
// machine; work.go plans what a step asks for as the View predicts it
// (owners resolved, parents ready, what lies in a directory replaced);
// do.go makes it so; ops.go is what the kinds share. Other kinds
// use it for the paths they touch: accounts for the account files,
// packages for what a package owns, commands for creates=.
package paths
