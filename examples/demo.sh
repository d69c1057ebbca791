#!/usr/bin/env bash
# The demo: what trail does with a compiled configuration, on the shipped
# example step lists. It reads files only and changes nothing on the machine.
set -u
trail=${TRAIL:-bin/trail}
ex=examples/steps
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "A host's config compiled to steps (validated, printed canonically)"
"$trail" check-steps "$ex/v1.steps"

say "The next commit: the plan from the applied list to the new one"
"$trail" diff-steps "$ex/v1.steps" "$ex/v2.steps"

say "Rolling back is the same operation toward the older list"
"$trail" diff-steps "$ex/v2.steps" "$ex/v1.steps"

say "A broken list changes nothing: every problem, with its place"
"$trail" check-steps -q "$ex/broken.steps"
echo "(exit code $?)"
exit 0
