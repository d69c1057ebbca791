#!/usr/bin/env bash
# absent: on a real machine, `absent = true` stops a unit the admin
# started, removes the package that ships it (installed by hand, marked
# automatic), a user and a file that were there before trail; applying
# again changes nothing and nothing has drifted; a package installed by
# hand again is drift. A rollback by git checkout installs the same
# version again with its mark and the conffile the admin changed, starts
# the unit, and gives back the user with its ids and password and the
# file byte for byte with its mode and owner.
. "$E2E_LIB/scenario.sh"
. "$E2E_LIB/admin.sh"


assert_ok "apt reads the local repo" apt-get update || exit 1
assert_ok "trail-e2e-svc is installed by hand" apt-get install -y trail-e2e-svc || exit 1
assert_ok "and marked automatically installed" apt-mark auto trail-e2e-svc
run "printf 'greeting=from the admin\n' >/etc/trail-e2e-svc.conf"
assert_ok "its unit is started by hand" systemctl start trail-e2e-svc.service || exit 1
assert_ok "a user exists before trail" "useradd -u 1234 -m -s /bin/sh -c Legacy legacy && echo 'legacy:\$6\$salt\$hash' | chpasswd -e" || exit 1
run "echo 'left by legacy' >/home/legacy/notes"
run "printf '17 * * * * legacy /bin/true\n' >/etc/cron.d/legacy && chmod 0640 /etc/cron.d/legacy && chown legacy:legacy /etc/cron.d/legacy"
passwd=$(run getent passwd legacy)
shadow=$(run getent shadow legacy)
cron=$(run "sha256sum /etc/cron.d/legacy; stat -c '%a %u %g' /etc/cron.d/legacy")
conf=$(run sha256sum /etc/trail-e2e-svc.conf)

run 'mkdir -p /srv/admin && cd /srv/admin && git init -q -b main' || exit 1
# Enough base steps that the rollback is not a mass removal.
run "for f in \$(seq -f base%g 1 12); do printf 'file \"/etc/trail-e2e-%s\" {\n  content = \"base\\\\n\"\n}\n' \$f; done >/srv/admin/base.hcl"
c1=$(git_commit /srv/admin 'base')
assert_ok "the host checkout is cloned" git clone -q /srv/admin /srv/config || exit 1
assert_ok "trail init applies the base commit" 'cd /srv/config && trail init' || exit 1

run "cat >/srv/admin/absent.hcl <<'HCL'
package \"trail-e2e-svc\" {
  absent = true
}

unit \"trail-e2e-svc.service\" {
  absent = true
}

user \"legacy\" {
  absent = true
}

file \"/etc/cron.d/legacy\" {
  absent = true
}
HCL"
c2=$(git_commit /srv/admin 'legacy absent')
plan=$(run 'cd /srv/config && git fetch -q && trail plan origin/main')
assert_contains "the plan removes the package" "$plan" "+ PKG trail-e2e-svc absent=true"
assert_contains "and the file" "$plan" "remove file"
assert_ok "git pull applies it" 'cd /srv/config && git pull -q' || exit 1
assert_fails "the unit is stopped" systemctl is-active -q trail-e2e-svc.service
assert_eq "the package is removed, its conffile kept" "deinstall ok config-files 1.0" "$(pkg_state trail-e2e-svc)"
assert_ok "the conffile is the admin's" "grep -q 'from the admin' /etc/trail-e2e-svc.conf"
assert_fails "the user is gone" getent passwd legacy
assert_ok "its home stays" test -f /home/legacy/notes
assert_fails "the file is gone" test -e /etc/cron.d/legacy
assert_ok "applying again does nothing" 'cd /srv/config && trail apply | grep -q "nothing to do"'
assert_ok "nothing has drifted" 'cd /srv/config && trail status'
assert_contains "status reports the commit" "$(run 'cd /srv/config && trail status --json')" "$c2"

assert_ok "the package installed again by hand" apt-get install -y trail-e2e-svc
status=$(run 'cd /srv/config && trail status'; echo "exit $?")
assert_contains "is drift" "$status" "PKG trail-e2e-svc"
assert_ok "and removed by hand again" apt-get remove -y trail-e2e-svc

assert_ok "git checkout of the base commit rolls back" "cd /srv/config && git checkout -q $c1" || exit 1
assert_eq "the package is back at its version" "install ok installed 1.0" "$(pkg_state trail-e2e-svc)"
assert_ok "marked automatic again" 'apt-mark showauto | grep -qx trail-e2e-svc'
assert_eq "with the admin's conffile" "$conf" "$(run sha256sum /etc/trail-e2e-svc.conf)"
assert_ok "its unit runs again" systemctl is-active -q trail-e2e-svc.service
assert_eq "the user is back" "$passwd" "$(run getent passwd legacy)"
assert_eq "with its password field and aging" "$shadow" "$(run getent shadow legacy)"
assert_eq "the file is back, byte for byte, mode and owner" "$cron" "$(run "sha256sum /etc/cron.d/legacy; stat -c '%a %u %g' /etc/cron.d/legacy")"
assert_contains "status reports the base commit" "$(run 'cd /srv/config && trail status --json')" "$c1"
