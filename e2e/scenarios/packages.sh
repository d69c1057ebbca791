#!/usr/bin/env bash
# packages: trail installs apt packages from a config repo, pinned or not;
# a rollback by git checkout purges the package trail installed, with the
# dependency apt installed for it, and leaves the one that was installed
# before trail, at its old version and with its mark. An edit of the
# pre-installed package's conffile, unchanged by the commit that upgrades
# the package (dpkg replaces the conffile, which the edit had left as 1.0
# shipped it), holds when that pull ends, on 2.0's file.
. "$E2E_LIB/scenario.sh"
. "$E2E_LIB/admin.sh"


assert_ok "apt reads the local repo" apt-get update || exit 1
assert_ok "trail-e2e-hello 1.0 is installed by hand before trail" apt-get install -y trail-e2e-hello=1.0 || exit 1
assert_ok "and marked automatically installed" apt-mark auto trail-e2e-hello

run 'mkdir -p /srv/admin && cd /srv/admin && git init -q -b main' || exit 1
# Enough base steps that a rollback removing the packages is not a mass removal.
run "for f in base base2 base3; do printf 'file \"/etc/trail-e2e-%s\" {\n  content = \"base\\\\n\"\n}\n' \$f; done >/srv/admin/base.hcl"
run "cat >/srv/admin/edit.hcl <<'HCL'
edit \"/etc/trail-e2e-hello.conf\" {
  line   = \"greeting = trail\"
  regexp = \"^#?greeting\"
}
HCL"
c1=$(git_commit /srv/admin 'base')
assert_ok "the host checkout is cloned" git clone -q /srv/admin /srv/config || exit 1
assert_ok "trail init applies the base commit" 'cd /srv/config && trail init' || exit 1
assert_eq "the base file is there" base "$(run cat /etc/trail-e2e-base)"

run "cat >/srv/admin/packages.hcl <<'HCL'
package \"trail-e2e-svc\" {}

package \"trail-e2e-app\" {}

package \"trail-e2e-hello\" {
  version = \"2.0\"
}
HCL"
c2=$(git_commit /srv/admin 'packages')
assert_ok "git pull deploys the packages" 'cd /srv/config && git pull -q' || exit 1
assert_eq "trail-e2e-svc is installed" "install ok installed 1.0" "$(pkg_state trail-e2e-svc)"
assert_eq "trail-e2e-hello is at its pin" "install ok installed 2.0" "$(pkg_state trail-e2e-hello)"
assert_ok "a managed package is marked manual" 'apt-mark showmanual | grep -qx trail-e2e-hello'
assert_eq "trail-e2e-app is installed" "install ok installed 1.0" "$(pkg_state trail-e2e-app)"
assert_eq "with its dependency" "install ok installed 1.0" "$(pkg_state trail-e2e-lib)"
assert_ok "which apt marked automatic" 'apt-mark showauto | grep -qx trail-e2e-lib'
assert_contains "status reports the commit" "$(run 'cd /srv/config && trail status --json')" "$c2"
assert_eq "the upgrade's conffile holds the unchanged edit" "$(printf '# trail-e2e-hello 2.0\ngreeting = trail')" "$(run cat /etc/trail-e2e-hello.conf)"
assert_fails "and is not drift" 'cd /srv/config && trail status --json | grep -q "EDIT /etc/trail-e2e-hello.conf"'
assert_ok "applying again does nothing" 'cd /srv/config && trail apply | grep -q "nothing to do"'

assert_ok "git checkout of the base commit rolls back" "cd /srv/config && git checkout -q $c1" || exit 1
assert_eq "the package trail installed is purged" absent "$(pkg_state trail-e2e-svc)"
assert_fails "with its conffile" test -e /etc/trail-e2e-svc.conf
assert_eq "the pre-installed package stays, at its old version" "install ok installed 1.0" "$(pkg_state trail-e2e-hello)"
assert_contains "the edit still holds on the conffile dpkg kept" "$(run cat /etc/trail-e2e-hello.conf)" "greeting = trail"
assert_eq "trail-e2e-app is removed" absent "$(pkg_state trail-e2e-app)"
assert_eq "and the dependency apt installed for it" absent "$(pkg_state trail-e2e-lib)"
assert_ok "and automatically installed again" 'apt-mark showauto | grep -qx trail-e2e-hello'
assert_contains "status reports the base commit" "$(run 'cd /srv/config && trail status --json')" "$c1"
assert_contains "the log has both generations" "$(run 'cd /srv/config && trail log')" "packages"
assert_ok "the journal names the package steps" 'journalctl -t trail -o cat | grep -q "PKG trail-e2e-svc"'
