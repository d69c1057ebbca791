// Package host is trail on one machine: a config checkout, the settings in
// its git config, and the operations the CLI, the git hooks and the watcher
// run on it — compile a commit, plan, apply, status, pull, rollback — with
// everything they do reported to the journal and the metrics file.
//
// Contract:
//   - Settings live in the checkout's own git config, under trail.* (see
//     Settings), so a hook needs no arguments. Hook arguments, ORIG_HEAD and
//     GIT_DIR are never trusted: what is applied is what HEAD names, compared
//     with the applied record in the state directory.
//   - The no-op path (HEAD is the applied commit) reads HEAD, the ref it
//     names and the applied record, and nothing else: no compile, no tree
//     walk, no git process.
//   - Every commit is read from git objects (package gitrepo), never from the
//     work tree, so a plan of an old commit works wherever HEAD is.
//   - A commit that fails (a compile error, a refused plan, a failed step) is
//     recorded in the state directory's "failed" file with its error and
//     source, so status reports it as critical until an apply succeeds; the
//     automatic paths (hooks, pull) do not retry the same commit until HEAD
//     moves, and an explicit apply always does.
//   - The git hooks never fail git because of trail: a failed apply is
//     recorded, reported and returned by Hook, and the hook exits 0.
package host
