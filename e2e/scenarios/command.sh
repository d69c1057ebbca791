#!/usr/bin/env bash
# command: git pull runs a guarded command once, its output reaches the
# journal, and a rollback by git checkout runs its undo; a command whose
# guard held is neither run nor undone. A failing health check makes the
# apply fail and undoes its changes.
. "$E2E_LIB/scenario.sh"
. "$E2E_LIB/admin.sh"


run 'mkdir -p /srv/admin && cd /srv/admin && git init -q -b main' || exit 1
# Enough base steps that the rollback is not a mass removal.
run "for f in base1 base2 base3 base4 base5 base6; do printf 'file \"/etc/trail-e2e-%s\" {\n  content = \"base\\\\n\"\n}\n' \$f; done >/srv/admin/base.hcl"
c1=$(git_commit /srv/admin 'base')
assert_ok "the host checkout is cloned" git clone -q /srv/admin /srv/config || exit 1
assert_ok "trail init applies the base commit" 'cd /srv/config && trail init' || exit 1
run 'echo there-before > /var/lib/trail-e2e-guarded' || exit 1

run "cat >/srv/admin/command.hcl <<'HCL'
command \"trail-e2e-mark\" {
  run     = \"echo hello-from-run; date +%s%N > /var/lib/trail-e2e-mark; echo run >> /var/lib/trail-e2e-log\"
  undo    = \"rm -f /var/lib/trail-e2e-mark; echo undo >> /var/lib/trail-e2e-log\"
  creates = \"/var/lib/trail-e2e-mark\"
  timeout = \"30s\"
}

command \"trail-e2e-guarded\" {
  run    = \"echo guarded-run >> /var/lib/trail-e2e-log\"
  undo   = \"echo guarded-undo >> /var/lib/trail-e2e-log\"
  unless = \"test -f /var/lib/trail-e2e-guarded\"
}

check \"trail-e2e-mark-made\" {
  run     = \"test -s /var/lib/trail-e2e-mark\"
  retries = 2
}
HCL"
git_commit /srv/admin 'command' >/dev/null
assert_ok "git pull deploys the command" 'cd /srv/config && git pull -q' || exit 1
assert_ok "it ran" test -s /var/lib/trail-e2e-mark
assert_eq "once, and the guarded one not at all" run "$(run cat /var/lib/trail-e2e-log)"
assert_contains "its output is in the journal" "$(run journalctl -t trail -o cat)" "run output: hello-from-run"
mark=$(run cat /var/lib/trail-e2e-mark)
assert_ok "applying again does nothing" 'cd /srv/config && trail apply | grep -q "nothing to do"'
assert_eq "and does not run it again" "$mark" "$(run cat /var/lib/trail-e2e-mark)"

run "printf 'file \"/etc/trail-e2e-unhealthy\" {\n  content = \"x\\\\n\"\n}\n\ncheck \"trail-e2e-fails\" {\n  run = \"echo sick; exit 1\"\n}\n' >/srv/admin/unhealthy.hcl"
git_commit /srv/admin 'a failing check' >/dev/null
run 'cd /srv/config && git pull -q'
assert_fails "a failing check undoes the apply's file" test -e /etc/trail-e2e-unhealthy
assert_contains "and the journal names the check" "$(run journalctl -t trail -o cat)" "output: sick"
assert_eq "the command is not undone by it" "$mark" "$(run cat /var/lib/trail-e2e-mark)"

assert_ok "git checkout of the base commit rolls back" "cd /srv/config && git checkout -q $c1" || exit 1
assert_fails "the undo ran" test -e /var/lib/trail-e2e-mark
assert_eq "once, and the guarded one's undo not at all" "$(printf 'run\nundo')" "$(run cat /var/lib/trail-e2e-log)"
assert_eq "what the guard saw is untouched" there-before "$(run cat /var/lib/trail-e2e-guarded)"
