#!/usr/bin/env bash
# units: trail enables and starts a unit whose file and config it writes,
# restarts it once when its config changes and not when something else
# does, and a rollback by git checkout disables and stops it before its
# files and package go.
. "$E2E_LIB/scenario.sh"

git_commit() { # DIR MESSAGE
	run "cd $1 && git add -A && git -c user.name=e2e -c user.email=e2e@localhost commit -q -m '$2' && git rev-parse HEAD"
}
main_pid() { run systemctl show -p MainPID --value trail-e2e-greeter.service; }

assert_ok "apt reads the local repo" apt-get update || exit 1

run 'mkdir -p /srv/admin && cd /srv/admin && git init -q -b main' || exit 1
# Enough base steps that the rollback is not a mass removal.
run "for f in base1 base2 base3 base4 base5 base6; do printf 'file \"/etc/trail-e2e-%s\" {\n  content = \"base\\\\n\"\n}\n' \$f; done >/srv/admin/base.hcl"
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
pid1=$(main_pid)

greeter two
git_commit /srv/admin 'greeting two' >/dev/null
assert_ok "git pull deploys the new config" 'cd /srv/config && git pull -q' || exit 1
pid2=$(main_pid)
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
assert_eq "an unrelated change does not restart it" "$pid2" "$(main_pid)"
assert_ok "applying again does nothing" 'cd /srv/config && trail apply | grep -q "nothing to do"'
assert_eq "and does not restart it" "$pid2" "$(main_pid)"

assert_ok "git checkout of the base commit rolls back" "cd /srv/config && git checkout -q $c1" || exit 1
assert_eq "the unit is stopped" inactive "$(run systemctl is-active trail-e2e-greeter.service)"
assert_fails "its wants symlink is gone" test -e /etc/systemd/system/multi-user.target.wants/trail-e2e-greeter.service
assert_fails "its unit file is gone" test -e /etc/systemd/system/trail-e2e-greeter.service
assert_fails "its package is gone" 'dpkg-query -W -f "\${Status}" trail-e2e-hello | grep -q "ok installed"'
