// Package hooks installs and removes the git hooks that make a config
// checkout drive trail: post-checkout (a checkout or rollback), post-merge
// (a pull) and post-rewrite (a rebase or amend).
//
// Contract:
//   - The hooks directory is the one git uses (`git rev-parse --git-path
//     hooks`), so core.hooksPath is respected.
//   - A hook that is not trail's is never overwritten: it is renamed to
//     NAME.trail-chained and trail's hook runs it first, with the same
//     arguments and standard input, then runs trail. Uninstall puts it back.
//   - trail's hook never makes git fail because of trail: git has already
//     moved HEAD, so the hook reports trail's failure and exits with the
//     chained hook's status (0 when there is none).
//   - The hooks pass their name and arguments on, but trail trusts neither:
//     it compares HEAD with its own applied record.
package hooks
