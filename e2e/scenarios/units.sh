#!/usr/bin/env bash
# units: trail enables and starts a unit whose file and config it writes,
# restarts it once when its config changes and not when something else
# does, and a rollback by git checkout disables and stops it before its
# files and package go. A second unit reads a tree of files (restart_on)
# and a greeting (reload_on): a changed greeting reloads it (same main
# PID), a file removed from the tree restarts it, a file that breaks it
# fails the apply, which is undone and restarts it with the old files, as
# does a failing check and the recovery of an apply killed mid-way; a unit
# that failed by hand comes back when a fixed file lands; a new unit that
# cannot start fails its apply.
. "$E2E_LIB/scenario.sh"
. "$E2E_LIB/admin.sh"

assert_ok "apt reads the local repo" apt-get update || exit 1

run 'mkdir -p /srv/admin && cd /srv/admin && git init -q -b main' || exit 1
# Enough base steps that the rollback is not a mass removal.
run "for f in \$(seq -f base%g 1 24); do printf 'file \"/etc/trail-e2e-%s\" {\n  content = \"base\\\\n\"\n}\n' \$f; done >/srv/admin/base.hcl"
c1=$(git_commit /srv/admin 'base')
assert_ok "the host checkout is cloned" git clone -q /srv/admin /srv/config || exit 1
assert_ok "trail init applies the base commit" 'cd /srv/config && trail init' || exit 1

greeter() { # GREETING
	run "cat >/srv/admin/greeter.hcl <<'HCL'
package \"trail-e2e-hello\" {}

file \"/etc/systemd/system/trail-e2e-greeter.service\" {
  content = <<-UNIT
    [Unit]
    Description=trail e2e greeter
    [Service]
    ExecStart=/bin/sh -c '/usr/bin/trail-e2e-hello; . /etc/trail-e2e-greeter.conf; echo \"greeting=\$\$greeting\"; exec sleep infinity'
    [Install]
    WantedBy=multi-user.target
  UNIT
}

file \"greeter_conf\" {
  path    = \"/etc/trail-e2e-greeter.conf\"
  content = \"greeting=$1\\n\"
}

unit \"trail-e2e-greeter.service\" {
  restart_on = [file.greeter_conf]
}
HCL"
}

greeter one
git_commit /srv/admin 'greeter' >/dev/null
assert_ok "git pull deploys the greeter" 'cd /srv/config && git pull -q' || exit 1
assert_eq "the unit is enabled" enabled "$(run systemctl is-enabled trail-e2e-greeter.service)"
assert_eq "the unit is running" active "$(run systemctl is-active trail-e2e-greeter.service)"
assert_eventually "it read its config" 'journalctl -u trail-e2e-greeter.service -o cat | grep -qx greeting=one'
pid1=$(main_pid trail-e2e-greeter.service)

greeter two
git_commit /srv/admin 'greeting two' >/dev/null
assert_ok "git pull deploys the new config" 'cd /srv/config && git pull -q' || exit 1
pid2=$(main_pid trail-e2e-greeter.service)
if [ -n "$pid2" ] && [ "$pid2" != 0 ] && [ "$pid2" != "$pid1" ]; then
	pass "the config change restarted the unit"
else
	fail "the config change restarted the unit" "MainPID $pid1 before, $pid2 after"
fi
assert_eventually "it read the new config" 'journalctl -u trail-e2e-greeter.service -o cat | grep -qx greeting=two'
assert_eq "it restarted once" 1 "$(run "journalctl -t trail -o cat | grep -c 'restart (changed: /etc/trail-e2e-greeter.conf)'")"

run "printf 'file \"/etc/trail-e2e-other\" {\n  content = \"x\\\\n\"\n}\n' >/srv/admin/other.hcl"
git_commit /srv/admin 'an unrelated file' >/dev/null
assert_ok "git pull deploys an unrelated change" 'cd /srv/config && git pull -q' || exit 1
assert_eq "an unrelated change does not restart it" "$pid2" "$(main_pid trail-e2e-greeter.service)"
assert_ok "applying again does nothing" 'cd /srv/config && trail apply | grep -q "nothing to do"'
assert_eq "and does not restart it" "$pid2" "$(main_pid trail-e2e-greeter.service)"

# The echo unit: it prints every file of its tree and stops on one that
# says "bad"; SIGHUP (its ExecReload) makes it read its greeting again.
echo_log() { run journalctl -u trail-e2e-echo.service -o cat; }
trail_log() { run journalctl -t trail -o cat; }
# last_read FILE: what the unit read from FILE of its tree when it last started.
last_read() { echo_log | sed -n "s/^read $1=//p" | tail -n 1; }
status_rc() { local rc=0; run 'cd /srv/config && trail status' >/dev/null 2>&1 || rc=$?; echo "$rc"; }
run 'mkdir -p /srv/admin/echo /srv/admin/echo.d' || exit 1
run 'cat >/srv/admin/echo/echo.sh' <<'SH'
#!/bin/sh
for f in /etc/trail-e2e-echo.d/*; do
	[ -f "$f" ] || continue
	echo "read ${f##*/}=$(cat "$f")"
	if grep -q bad "$f"; then
		echo "cannot start: $f is bad"
		exit 1
	fi
done
. /etc/trail-e2e-echo.conf
trap '. /etc/trail-e2e-echo.conf; echo "reloaded greeting=$greeting"' HUP
echo "started greeting=$greeting"
while :; do sleep 1; done
SH
run 'cat >/srv/admin/echo.hcl' <<'HCL'
file "echo_bin" {
  path   = "/usr/local/bin/trail-e2e-echo"
  source = "echo/echo.sh"
  mode   = "0755"
}

file "echo_unit" {
  path    = "/etc/systemd/system/trail-e2e-echo.service"
  content = <<-UNIT
    [Unit]
    Description=trail e2e echo
    [Service]
    ExecStart=/usr/local/bin/trail-e2e-echo
    ExecReload=/bin/kill -HUP $MAINPID
    [Install]
    WantedBy=multi-user.target
  UNIT
}

file "echo_conf" {
  path    = "/etc/trail-e2e-echo.conf"
  content = "greeting=hello\n"
}

tree "echo_d" {
  path   = "/etc/trail-e2e-echo.d"
  source = "echo.d"
}

unit "trail-e2e-echo.service" {
  restart_on = [file.echo_bin, file.echo_unit, tree.echo_d]
  reload_on  = [file.echo_conf]
}
HCL
run 'echo alpha >/srv/admin/echo.d/a && echo beta >/srv/admin/echo.d/b'
git_commit /srv/admin 'the echo unit' >/dev/null
assert_ok "git pull deploys the echo unit" 'cd /srv/config && git pull -q' || exit 1
assert_eq "the echo unit is running" active "$(run systemctl is-active trail-e2e-echo.service)" || exit 1
assert_eventually "it read its files" 'journalctl -u trail-e2e-echo.service -o cat | grep -qx "started greeting=hello"'
e1=$(main_pid trail-e2e-echo.service)

run "sed -i 's/greeting=hello/greeting=world/' /srv/admin/echo.hcl"
git_commit /srv/admin 'a new greeting' >/dev/null
assert_ok "git pull deploys a new greeting" 'cd /srv/config && git pull -q' || exit 1
assert_eventually "the reload_on file reloads the unit" 'journalctl -u trail-e2e-echo.service -o cat | grep -qx "reloaded greeting=world"'
assert_eq "a reload keeps the main PID" "$e1" "$(main_pid trail-e2e-echo.service)"
assert_contains "the journal says reload" "$(trail_log)" "reload (changed: /etc/trail-e2e-echo.conf)"

run 'rm /srv/admin/echo.d/b'
git_commit /srv/admin 'one file less in the tree' >/dev/null
assert_ok "git pull deploys the smaller tree" 'cd /srv/config && git pull -q' || exit 1
assert_fails "the file is gone" test -e /etc/trail-e2e-echo.d/b
e2=$(main_pid trail-e2e-echo.service)
if [ -n "$e2" ] && [ "$e2" != 0 ] && [ "$e2" != "$e1" ]; then
	pass "a file removed from a restart_on tree restarts the unit"
else
	fail "a file removed from a restart_on tree restarts the unit" "MainPID $e1 before, $e2 after"
fi
assert_contains "the journal says restart" "$(trail_log)" "restart (changed: /etc/trail-e2e-echo.d/b)"

run 'echo bad >/srv/admin/echo.d/a'
git_commit /srv/admin 'a file the unit cannot start with' >/dev/null
assert_ok "git pull of the bad file does not fail git" 'cd /srv/config && git pull -q'
assert_eq "the apply failed (trail status CRITICAL)" 2 "$(status_rc)"
assert_contains "the journal says the unit did not run" "$(trail_log)" "trail-e2e-echo.service does not run after systemctl restart"
assert_eq "the old file is back" alpha "$(run cat /etc/trail-e2e-echo.d/a)"
assert_contains "the unit tried the bad file" "$(echo_log)" "cannot start: /etc/trail-e2e-echo.d/a is bad"
assert_eq "and was restarted with the old file after the undo" alpha "$(last_read a)"
assert_eq "it is running" active "$(run systemctl is-active trail-e2e-echo.service)"
assert_contains "the journal says why" "$(trail_log)" "restart (put back: /etc/trail-e2e-echo.d/a)"

run 'echo gamma >/srv/admin/echo.d/a'
run "printf 'check \"trail-e2e-sick\" {\n  run = \"exit 1\"\n}\n' >/srv/admin/sick.hcl"
git_commit /srv/admin 'a new file and a failing check' >/dev/null
assert_ok "git pull of a failing check does not fail git" 'cd /srv/config && git pull -q'
assert_eq "the apply failed" 2 "$(status_rc)"
assert_contains "the unit ran with the new file" "$(echo_log)" "read a=gamma"
assert_eq "and after the undo with the old one again" alpha "$(last_read a)"
assert_eq "it is running" active "$(run systemctl is-active trail-e2e-echo.service)"

# Broken by hand: the unit fails; the fixed file of the next commit
# brings it back (restart, not try-restart, which leaves a failed unit).
run 'rm /srv/admin/sick.hcl && echo delta >/srv/admin/echo.d/a'
run 'echo bad >/etc/trail-e2e-echo.d/a && systemctl restart trail-e2e-echo.service'
assert_eventually "the unit broken by hand has failed" 'systemctl is-failed -q trail-e2e-echo.service'
git_commit /srv/admin 'a fixed file' >/dev/null
assert_ok "git pull deploys the fixed file" 'cd /srv/config && git pull -q' || exit 1
assert_eq "the apply succeeded" 0 "$(status_rc)"
assert_eq "the failed unit came back" active "$(run systemctl is-active trail-e2e-echo.service)"
assert_eq "with the fixed file" delta "$(last_read a)"

# A crash: the check kills the apply (SIGKILL to trail, its parent) after
# the unit was restarted with the new file. The next trail command undoes
# the interrupted apply from its journal and restarts the unit with the
# file put back.
run 'echo epsilon >/srv/admin/echo.d/a'
run "printf 'check \"trail-e2e-crash\" {\n  run = \"kill -9 \$PPID\"\n}\n' >/srv/admin/crash.hcl"
git_commit /srv/admin 'a check that kills trail' >/dev/null
run 'cd /srv/config && git pull -q' >/dev/null 2>&1
assert_eq "the apply was killed after the unit read the new file" epsilon "$(last_read a)"
assert_ok "the interrupted apply left its journal" test -e /var/lib/trail/journal
run 'cd /srv/config && trail status' >/dev/null 2>&1
assert_fails "the next trail command recovered" test -e /var/lib/trail/journal
assert_eq "the old file is back" delta "$(run cat /etc/trail-e2e-echo.d/a)"
assert_eq "and the unit was restarted with it" delta "$(last_read a)"
assert_eq "it is running" active "$(run systemctl is-active trail-e2e-echo.service)"
run 'rm /srv/admin/crash.hcl && echo delta >/srv/admin/echo.d/a'
git_commit /srv/admin 'no crash' >/dev/null
assert_ok "git pull without the crash" 'cd /srv/config && git pull -q' || exit 1
assert_eq "the apply succeeded" 0 "$(status_rc)"

run "cat >/srv/admin/broken.hcl" <<'HCL'
file "/etc/systemd/system/trail-e2e-broken.service" {
  content = <<-UNIT
    [Unit]
    Description=trail e2e broken
    [Service]
    ExecStart=/bin/sh -c 'echo broken; exit 1'
    [Install]
    WantedBy=multi-user.target
  UNIT
}

unit "trail-e2e-broken.service" {}
HCL
git_commit /srv/admin 'a unit that cannot start' >/dev/null
assert_ok "git pull of the broken unit does not fail git" 'cd /srv/config && git pull -q'
assert_eq "the apply failed" 2 "$(status_rc)"
assert_contains "the journal says the unit did not run" "$(trail_log)" "trail-e2e-broken.service does not run after systemctl start"
assert_fails "the unit is not running" systemctl is-active -q trail-e2e-broken.service
assert_fails "the undo reset its failed state" systemctl is-failed -q trail-e2e-broken.service
assert_fails "its unit file is gone" test -e /etc/systemd/system/trail-e2e-broken.service
assert_fails "it is not enabled" test -e /etc/systemd/system/multi-user.target.wants/trail-e2e-broken.service
run 'rm /srv/admin/broken.hcl'
git_commit /srv/admin 'no broken unit' >/dev/null
assert_ok "git pull without the broken unit" 'cd /srv/config && git pull -q' || exit 1
assert_eq "the apply succeeded" 0 "$(status_rc)"

assert_ok "git checkout of the base commit rolls back" "cd /srv/config && git checkout -q $c1" || exit 1
assert_eq "the unit is stopped" inactive "$(run systemctl is-active trail-e2e-greeter.service)"
assert_fails "its wants symlink is gone" test -e /etc/systemd/system/multi-user.target.wants/trail-e2e-greeter.service
assert_fails "its unit file is gone" test -e /etc/systemd/system/trail-e2e-greeter.service
assert_fails "its package is gone" 'dpkg-query -W -f "\${Status}" trail-e2e-hello | grep -q "ok installed"'
assert_eq "the echo unit is stopped" inactive "$(run systemctl is-active trail-e2e-echo.service)"
assert_fails "its files are gone" test -e /etc/trail-e2e-echo.d
