#!/usr/bin/env bash
# pkgscripts: a rollback gives back the machine from before trail when the
# packages trail installed ran maintainer scripts: the package is purged
# (its conffile and /etc directory go), the system user its postinst made
# and the enablement link its `systemctl enable` made go too, and the
# dependency two of them share goes with both, with no "kept" note. A
# file under the directory the package ships is written in the same
# commit as the package (owns).
. "$E2E_LIB/scenario.sh"
. "$E2E_LIB/admin.sh"

# machine_state prints what a rollback must give back exactly.
machine_state() {
	run 'cut -d: -f1 /etc/passwd | sort; echo; cut -d: -f1 /etc/group | sort; echo;
		find /etc/systemd/system -type l | sort; echo; ls -a /etc; echo;
		dpkg-query -W -f "\${binary:Package} \${Status} \${Version}\n" | sort; echo; apt-mark showauto'
}
wants=/etc/systemd/system/multi-user.target.wants/trail-e2e-daemon.service

assert_ok "apt reads the local repo" apt-get update || exit 1
run 'mkdir -p /srv/admin && cd /srv/admin && git init -q -b main' || exit 1
run "for f in base base2 base3 base4; do printf 'file \"/etc/trail-e2e-%s\" {\n  content = \"base\\\\n\"\n}\n' \$f; done >/srv/admin/base.hcl"
c1=$(git_commit /srv/admin 'base')
assert_ok "the host checkout is cloned" git clone -q /srv/admin /srv/config || exit 1
assert_ok "trail init applies the base commit" 'cd /srv/config && trail init' || exit 1
before=$(machine_state)

run "cat >/srv/admin/daemon.hcl <<'HCL'
package \"trail-e2e-daemon\" {
  owns = [\"/etc/trail-e2e-daemon\"]
}

file \"/etc/trail-e2e-daemon/daemon.conf\" {
  content = \"listen=0.0.0.0\n\"
}

package \"trail-e2e-app\" {}
HCL"
c2=$(git_commit /srv/admin 'daemon')
assert_ok "git pull deploys the package and a file under its directory in one commit" 'cd /srv/config && git pull -q' || exit 1
assert_contains "status reports the commit" "$(run 'cd /srv/config && trail status --json')" "$c2"
assert_eq "trail-e2e-daemon is installed" "install ok installed 1.0" "$(pkg_state trail-e2e-daemon)"
assert_eq "the config file is trail's" "listen=0.0.0.0" "$(run cat /etc/trail-e2e-daemon/daemon.conf)"
assert_ok "its postinst made the system user" getent passwd trail-e2e-daemon
assert_ok "and enabled its unit" test -L $wants
assert_ok "the shared dependency came, marked automatic" 'apt-mark showauto | grep -qx trail-e2e-lib'

assert_ok "git checkout of the base commit rolls back" "cd /srv/config && git checkout -q $c1" || exit 1
assert_contains "status reports the base commit" "$(run 'cd /srv/config && trail status --json')" "$c1"
assert_eq "trail-e2e-daemon is purged" absent "$(pkg_state trail-e2e-daemon)"
assert_fails "its /etc directory is gone" test -e /etc/trail-e2e-daemon
assert_fails "the user its postinst made is gone" getent passwd trail-e2e-daemon
assert_fails "its group too" getent group trail-e2e-daemon
assert_fails "the enablement link is gone" test -L $wants
assert_eq "trail-e2e-app is purged" absent "$(pkg_state trail-e2e-app)"
assert_eq "the shared dependency went with both" absent "$(pkg_state trail-e2e-lib)"
assert_fails "no package was kept" 'journalctl -t trail -o cat | grep -q "kept"'
after=$(machine_state)
if [ "$after" = "$before" ]; then
	pass "accounts, enablement links, /etc and packages are as before trail"
else
	fail "accounts, enablement links, /etc and packages are as before trail" "differ" "$(diff <(echo "$before") <(echo "$after"))"
fi
