#!/usr/bin/env bash
# crash: trail killed with SIGKILL while a program it started runs. The
# next trail kills what the dead one left running before it undoes the
# interrupted apply: a command's grandchild (sh -> sh -> sleep) never
# gets to write its file, and a package whose postinst was running under
# apt-get and dpkg is gone again, with dpkg's own run finished (dpkg
# --audit is clean) and apt usable. The host is at the old generation.
. "$E2E_LIB/scenario.sh"
. "$E2E_LIB/admin.sh"

# has_proc CMDLINE prints a machine command that succeeds while a process
# runs exactly CMDLINE (its arguments joined by spaces).
has_proc() { echo "for p in /proc/[0-9]*; do [ \"\$(tr '\\0' ' ' <\$p/cmdline 2>/dev/null)\" = '$1 ' ] && exit 0; done; exit 1"; }
# wait_for FILE prints a machine command that waits until FILE exists (60 s).
wait_for() { echo "for i in \$(seq 600); do [ -e $1 ] && exit 0; sleep 0.1; done; exit 1"; }
kill_trail='kill -KILL $(sed -n "s/^pid //p" /var/lib/trail/lock)'

assert_ok "apt reads the local repo" apt-get update || exit 1
run 'mkdir -p /srv/admin && cd /srv/admin && git init -q -b main' || exit 1
run "for f in base1 base2 base3 base4; do printf 'file \"/etc/trail-e2e-%s\" {\n  content = \"base\\\\n\"\n}\n' \$f; done >/srv/admin/base.hcl"
c1=$(git_commit /srv/admin 'base')
assert_ok "the host checkout is cloned" git clone -q /srv/admin /srv/config || exit 1
assert_ok "trail init applies the base commit" 'cd /srv/config && trail init' || exit 1

# A command whose shell starts another shell that sleeps, then writes.
run "cat >/srv/admin/slow.hcl <<'HCL'
command \"trail-e2e-slow\" {
  run     = \"touch /var/lib/trail-e2e-started; sh -c 'sleep 3.21; touch /var/lib/trail-e2e-late'\"
  undo    = \"rm -f /var/lib/trail-e2e-started\"
  timeout = \"60s\"
}
HCL"
git_commit /srv/admin 'a slow command' >/dev/null
run 'cd /srv/config && setsid sh -c "git pull -q >/tmp/pull.log 2>&1" </dev/null >/dev/null 2>&1 &'
assert_ok "git pull's apply runs the command" "$(wait_for /var/lib/trail-e2e-started)" || exit 1
assert_eventually "its grandchild sleeps" "$(has_proc 'sleep 3.21')" || exit 1
assert_ok "trail is killed with SIGKILL" "$kill_trail"
assert_ok "the next trail recovers" 'cd /srv/config && trail status >/tmp/status.out; [ $? -le 1 ]'
assert_fails "nothing the killed apply started still runs" "$(has_proc 'sleep 3.21')"
run 'sleep 4'
assert_fails "the grandchild never wrote its file" test -e /var/lib/trail-e2e-late
assert_fails "the command's run was undone" test -e /var/lib/trail-e2e-started
assert_contains "the host is at the base commit" "$(run 'cd /srv/config && trail status --json')" "\"commit\": \"$c1\""
assert_contains "the apply is recorded as interrupted" "$(run 'cd /srv/config && trail log')" "interrupted"

# A package whose postinst runs under apt-get and dpkg when trail dies.
run "rm /srv/admin/slow.hcl; printf 'package \"trail-e2e-slow\" {}\n' >/srv/admin/pkg.hcl"
git_commit /srv/admin 'a package with a slow postinst' >/dev/null
run 'cd /srv/config && setsid sh -c "git pull -q >/tmp/pull.log 2>&1" </dev/null >/dev/null 2>&1 &'
assert_ok "git pull's apply runs the postinst" "$(wait_for /var/lib/trail-e2e-slow-started)" || exit 1
assert_eventually "the postinst sleeps" "$(has_proc 'sleep 3.31')" || exit 1
assert_ok "trail is killed with SIGKILL" "$kill_trail"
assert_ok "the next trail recovers" 'cd /srv/config && trail status >/tmp/status.out; [ $? -le 1 ]'
assert_fails "nothing the killed apply started still runs" "$(has_proc 'sleep 3.31')"
assert_eq "the package is gone again" absent "$(pkg_state trail-e2e-slow)"
assert_eq "dpkg has nothing unfinished" "" "$(run dpkg --audit)"
assert_contains "the host is at the base commit" "$(run 'cd /srv/config && trail status --json')" "\"commit\": \"$c1\""
assert_ok "apt works" 'apt-get install -y -q trail-e2e-hello >/dev/null && apt-get purge -y -q trail-e2e-hello >/dev/null'
