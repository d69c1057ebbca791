#!/usr/bin/env bash
# pkgshared: two packages deployed in different commits share a
# dependency whose postinst makes a system user and enables its unit
# (trail-e2e-front and trail-e2e-back need trail-e2e-daemon; front's own
# postinst makes the user trail-e2e-front). Removing front keeps the
# daemon, which back still needs, with its user, group and enablement
# link (front's own user goes); removing back then takes the daemon, its
# user and link and trail-e2e-lib, and the packages, accounts and units
# equal the snapshot from before trail. Then the daemon, which front
# brought, is declared by a package block of its own in a later commit:
# removing front keeps it, with its user and link and trail-e2e-lib, and
# removing its block then takes them with it; deployed so once more, a git checkout of the
# base commit takes front, the daemon and trail-e2e-lib, and
# trail-e2e-greeter, deployed before it, whose install upgraded
# trail-e2e-hello (installed before trail at 1.0, marked automatic) to
# 2.0: hello goes back to 1.0, marked automatic. Each time the packages,
# accounts and units equal the snapshot from before trail.
. "$E2E_LIB/scenario.sh"
. "$E2E_LIB/admin.sh"
. "$E2E_LIB/snapshot.sh"

wants=/etc/systemd/system/multi-user.target.wants/trail-e2e-daemon.service
assert_ok "apt reads the local repo" apt-get update || exit 1
run 'mkdir -p /srv/admin && cd /srv/admin && git init -q -b main' || exit 1
run "for f in base base2 base3; do printf 'file \"/etc/trail-e2e-%s\" {\n  content = \"base\\\\n\"\n}\n' \$f; done >/srv/admin/base.hcl"
c0=$(git_commit /srv/admin 'base')
assert_ok "the host checkout is cloned" git clone -q /srv/admin /srv/config || exit 1
assert_ok "trail-e2e-hello 1.0 is installed before trail" 'apt-get install -y -q trail-e2e-hello=1.0 >/dev/null && apt-mark auto trail-e2e-hello >/dev/null' || exit 1
snapshot_before packages accounts units || exit 1
assert_ok "trail init applies the base commit" 'cd /srv/config && trail init' || exit 1

run "printf 'package \"trail-e2e-front\" {}\n' >/srv/admin/front.hcl"
git_commit /srv/admin 'front' >/dev/null
assert_ok "git pull deploys front" 'cd /srv/config && git pull -q' || exit 1
assert_eq "the daemon came with front" "install ok installed 1.0" "$(pkg_state trail-e2e-daemon)"
assert_ok "the daemon's postinst made its user" getent passwd trail-e2e-daemon
assert_ok "and enabled its unit" test -L $wants
assert_ok "front's postinst made its own user" getent passwd trail-e2e-front

run "printf 'package \"trail-e2e-back\" {}\n' >/srv/admin/back.hcl"
git_commit /srv/admin 'back' >/dev/null
assert_ok "git pull deploys back, which finds the daemon installed" 'cd /srv/config && git pull -q' || exit 1
assert_eq "back is installed" "install ok installed 1.0" "$(pkg_state trail-e2e-back)"

run 'rm /srv/admin/front.hcl'
git_commit /srv/admin 'no front' >/dev/null
assert_ok "git pull removes front" 'cd /srv/config && git pull -q' || exit 1
assert_eq "front is purged" absent "$(pkg_state trail-e2e-front)"
assert_eq "the daemon stays for back" "install ok installed 1.0" "$(pkg_state trail-e2e-daemon)"
assert_ok "the daemon's user stays with it" getent passwd trail-e2e-daemon
assert_ok "its group too" getent group trail-e2e-daemon
assert_ok "its enablement link too" test -L $wants
assert_fails "front's own user went with front" getent passwd trail-e2e-front
assert_ok "the journal says why the daemon stays" \
	'journalctl -t trail -o cat | grep -q "package trail-e2e-daemon kept: trail installed it for trail-e2e-front, but trail-e2e-back still needs it"'
kept=$(run 'journalctl -t trail -o cat | grep -c kept')

run 'rm /srv/admin/back.hcl'
git_commit /srv/admin 'no back' >/dev/null
assert_ok "git pull removes back" 'cd /srv/config && git pull -q' || exit 1
assert_eq "the daemon went with back" absent "$(pkg_state trail-e2e-daemon)"
assert_eq "and trail-e2e-lib" absent "$(pkg_state trail-e2e-lib)"
assert_fails "the daemon's user went with it" getent passwd trail-e2e-daemon
assert_fails "its enablement link too" test -L $wants
assert_eq "nothing was kept by back's removal" "$kept" "$(run 'journalctl -t trail -o cat | grep -c kept')"
snapshot_after packages accounts units

# declared and brought: deploys front, then a block declaring the daemon.
declared() {
	run "printf 'package \"trail-e2e-front\" {}\n' >/srv/admin/front.hcl"
	git_commit /srv/admin "front again$1" >/dev/null
	assert_ok "git pull deploys front again$1" 'cd /srv/config && git pull -q' || return 1
	assert_ok "the daemon came with front, marked automatic" 'apt-mark showauto | grep -qx trail-e2e-daemon'
	run "printf 'package \"trail-e2e-daemon\" {}\n' >/srv/admin/daemon.hcl"
	git_commit /srv/admin "the daemon declared$1" >/dev/null
	assert_ok "git pull deploys the daemon's own block$1" 'cd /srv/config && git pull -q' || return 1
	assert_ok "the daemon is marked manual" 'apt-mark showmanual | grep -qx trail-e2e-daemon'
}

declared "" || exit 1
run 'rm /srv/admin/front.hcl'
git_commit /srv/admin 'no front, the daemon declared' >/dev/null
assert_ok "git pull removes front" 'cd /srv/config && git pull -q' || exit 1
assert_eq "front is purged" absent "$(pkg_state trail-e2e-front)"
assert_eq "the declared daemon stays" "install ok installed 1.0" "$(pkg_state trail-e2e-daemon)"
assert_ok "with its user" getent passwd trail-e2e-daemon
assert_ok "and its enablement link" test -L $wants
assert_ok "the journal says trail-e2e-lib stays for the daemon" \
	'journalctl -t trail -o cat | grep -q "package trail-e2e-lib kept: trail installed it for trail-e2e-front, but trail-e2e-daemon still needs it"'
kept=$(run 'journalctl -t trail -o cat | grep -c kept')
run 'rm /srv/admin/daemon.hcl'
git_commit /srv/admin 'no daemon' >/dev/null
assert_ok "git pull removes the daemon's block" 'cd /srv/config && git pull -q' || exit 1
assert_eq "the daemon, absent before trail, is purged" absent "$(pkg_state trail-e2e-daemon)"
assert_eq "with trail-e2e-lib" absent "$(pkg_state trail-e2e-lib)"
assert_fails "and its user" getent passwd trail-e2e-daemon
assert_fails "and its enablement link" test -L $wants
assert_eq "nothing was kept" "$kept" "$(run 'journalctl -t trail -o cat | grep -c kept')"
snapshot_after packages accounts units

declared " (2)" || exit 1
run "printf 'package \"trail-e2e-greeter\" {}\n' >/srv/admin/greeter.hcl"
git_commit /srv/admin 'greeter' >/dev/null
assert_ok "git pull deploys greeter" 'cd /srv/config && git pull -q' || exit 1
assert_eq "which upgraded trail-e2e-hello as its dependency" "install ok installed 2.0" "$(pkg_state trail-e2e-hello)"
assert_ok "git checkout of the base commit rolls back" "cd /srv/config && git checkout -q $c0" || exit 1
assert_eq "front is purged again" absent "$(pkg_state trail-e2e-front)"
assert_eq "and the declared daemon" absent "$(pkg_state trail-e2e-daemon)"
assert_eq "and trail-e2e-lib" absent "$(pkg_state trail-e2e-lib)"
assert_eq "and greeter" absent "$(pkg_state trail-e2e-greeter)"
assert_eq "trail-e2e-hello is back at 1.0" "install ok installed 1.0" "$(pkg_state trail-e2e-hello)"
assert_ok "marked automatically installed, as before" 'apt-mark showauto | grep -qx trail-e2e-hello'
assert_fails "and the daemon's user" getent passwd trail-e2e-daemon
assert_fails "and its enablement link" test -L $wants
assert_eq "nothing was kept by the rollback" "$kept" "$(run 'journalctl -t trail -o cat | grep -c kept')"
snapshot_after packages accounts units
