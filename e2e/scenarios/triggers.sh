#!/usr/bin/env bash
# triggers: a unit restarts when a package or a command its restart_on
# names changes. trail-e2e-svc's service prints the trail-e2e-hello it
# runs; pinning trail-e2e-hello from 1.0 to 2.0 restarts it (a new main
# PID, which prints 2.0), as the plan says first; a command added to its
# restart_on that runs restarts it, an unrelated change does not, and
# removing the command (its undo runs) restarts it once more; a downgrade
# whose check fails is undone, and the service is restarted on the
# version put back; git checkout of the commit before trail removes all.
. "$E2E_LIB/scenario.sh"
. "$E2E_LIB/admin.sh"

# svc_says: the last trail-e2e-hello line the service printed.
svc_says() { run "journalctl -u trail-e2e-svc.service -o cat | grep '^trail-e2e-hello' | tail -n 1"; }
config() { # VERSION TRIGGERS [EXTRA]
	run "cat >/srv/admin/svc.hcl" <<EOF
package "trail-e2e-hello" {
  version = "$1"
}

package "trail-e2e-svc" {}

unit "trail-e2e-svc.service" {
  restart_on = [$2]
}
${3:-}
EOF
}
stamp='command "stamp" {
  run  = "date +%s%N >/var/lib/trail-e2e-stamp"
  undo = "rm -f /var/lib/trail-e2e-stamp"
}'
restarted() { # NAME PID_BEFORE
	local now
	now=$(main_pid trail-e2e-svc.service)
	if [ "$2" != "$now" ] && [ "$now" != 0 ]; then pass "$1"; else fail "$1" "main PID $2 before, $now after"; fi
}

assert_ok "apt reads the local repo" apt-get update || exit 1
run 'mkdir -p /srv/admin && cd /srv/admin && git init -q -b main' || exit 1
run "printf '# Nothing is managed yet.\n' >/srv/admin/main.hcl"
c0=$(git_commit /srv/admin 'trail manages nothing yet')
assert_ok "the host checkout is cloned" git clone -q /srv/admin /srv/config || exit 1
assert_ok "trail init applies the commit that manages nothing" 'cd /srv/config && trail init' || exit 1

# 1. The service with trail-e2e-hello 1.0.
config 1.0 package.trail-e2e-hello
c1=$(git_commit /srv/admin 'the service with hello 1.0')
assert_ok "git pull deploys the service" 'cd /srv/config && git pull -q' || exit 1
assert_eq "trail applied it" "$c1" "$(applied)" || exit 1
assert_eq "the service runs" active "$(run systemctl is-active trail-e2e-svc.service)"
assert_eventually "it runs hello 1.0" "journalctl -u trail-e2e-svc.service -o cat | grep -qx 'trail-e2e-hello 1.0'"
pid=$(main_pid trail-e2e-svc.service)

# 2. hello 2.0: the plan names the restart and why, the apply makes it.
config 2.0 package.trail-e2e-hello
c2=$(git_commit /srv/admin 'hello 2.0')
run 'cd /srv/config && git fetch -q' || exit 1
assert_contains "the plan restarts the service for the package" \
	"$(run 'cd /srv/config && trail plan origin/main')" "restart (changed: package:trail-e2e-hello)"
assert_ok "git pull upgrades hello" 'cd /srv/config && git pull -q' || exit 1
assert_eq "trail applied it" "$c2" "$(applied)" || exit 1
assert_eq "hello is 2.0" "install ok installed 2.0" "$(pkg_state trail-e2e-hello)"
restarted "the service was restarted for the upgrade" "$pid"
assert_eventually "and runs hello 2.0" "journalctl -u trail-e2e-svc.service -o cat | grep -qx 'trail-e2e-hello 2.0'"
assert_contains "the journal says why" "$(run journalctl -t trail -o cat)" "restart (changed: package:trail-e2e-hello)"
pid=$(main_pid trail-e2e-svc.service)

# 3. A command in restart_on: it runs, and the service restarts.
config 2.0 "package.trail-e2e-hello, command.stamp" "$stamp"
c3=$(git_commit /srv/admin 'a command the service reads')
assert_ok "git pull runs the command" 'cd /srv/config && git pull -q' || exit 1
assert_eq "trail applied it" "$c3" "$(applied)" || exit 1
assert_ok "the command ran" test -s /var/lib/trail-e2e-stamp
restarted "the service was restarted for the command" "$pid"
assert_contains "the journal says why" "$(run journalctl -t trail -o cat)" "restart (changed: command:stamp)"
pid=$(main_pid trail-e2e-svc.service)

# 4. An unrelated change restarts nothing.
config 2.0 "package.trail-e2e-hello, command.stamp" "$stamp
file \"/etc/trail-e2e-unrelated\" {
  content = \"x\\n\"
}"
c4=$(git_commit /srv/admin 'an unrelated file')
assert_ok "git pull writes the unrelated file" 'cd /srv/config && git pull -q' || exit 1
assert_eq "trail applied it" "$c4" "$(applied)" || exit 1
assert_eq "the service was not restarted" "$pid" "$(main_pid trail-e2e-svc.service)"

# 5. The command goes with its trigger: its undo runs, the service is
# restarted once more.
config 2.0 package.trail-e2e-hello
c5=$(git_commit /srv/admin 'the command goes')
assert_ok "git pull undoes the command" 'cd /srv/config && git pull -q' || exit 1
assert_eq "trail applied it" "$c5" "$(applied)" || exit 1
assert_fails "the command's undo ran" test -e /var/lib/trail-e2e-stamp
restarted "the service was restarted for the undone command" "$pid"
pid=$(main_pid trail-e2e-svc.service)

# 6. A downgrade whose check fails: undone, and the service restarted on
# the version put back.
config 1.0 package.trail-e2e-hello 'check "fails" {
  run = "false"
}'
c6=$(git_commit /srv/admin 'a downgrade that fails its check')
assert_ok "git pull of the failing commit does not fail git" 'cd /srv/config && git pull -q'
assert_eq "the applied commit is still the fifth" "$c5" "$(applied)"
assert_contains "status names the failed commit" "$(run 'cd /srv/config && trail status')" "${c6:0:12}"
assert_eq "hello is 2.0 again" "install ok installed 2.0" "$(pkg_state trail-e2e-hello)"
assert_contains "the service was restarted on the version put back" "$(run journalctl -t trail -o cat)" \
	"restart (put back: package:trail-e2e-hello)"
assert_eq "and runs" active "$(run systemctl is-active trail-e2e-svc.service)"
assert_eventually "hello 2.0 again" "journalctl -u trail-e2e-svc.service -o cat | tail -n 3 | grep -qx 'trail-e2e-hello 2.0'"

# 7. Back to before trail.
assert_ok "git checkout of the commit before trail rolls back" "cd /srv/config && git checkout -q $c0"
assert_eq "trail-e2e-svc is gone" absent "$(pkg_state trail-e2e-svc)"
assert_eq "trail-e2e-hello is gone" absent "$(pkg_state trail-e2e-hello)"
