#!/usr/bin/env bash
# smoke: the rig itself works. A booted systemd, journald, users, a unit
# started and stopped, apt installing and removing packages from the local
# repo, files copied in and out, and the trail binary present and running.
. "$E2E_LIB/scenario.sh"

assert_eq "systemd is running" running "$(run systemctl is-system-running)"
assert_eq "PID 1 is systemd" systemd "$(run cat /proc/1/comm)"
assert_eq "the hostname is the machine name" "$E2E_MACHINE" "$(run hostname)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf 'line one\nline two\n' >"$tmp/note"
chmod 0640 "$tmp/note"
copy_in "$tmp/note" /tmp/smoke/note
assert_eq "copy_in keeps content" "$(cat "$tmp/note")" "$(run cat /tmp/smoke/note)"
assert_eq "copy_in keeps the mode" 640 "$(run stat -c %a /tmp/smoke/note)"
copy_out /tmp/smoke/note "$tmp/back"
assert_eq "copy_out brings it back" "$(cat "$tmp/note")" "$(cat "$tmp/back")"

run 'systemd-cat -t trail-smoke echo hi && journalctl --sync'
assert_eq "journald records a tagged message" hi "$(run journalctl -t trail-smoke -o cat --no-pager)"

assert_ok "groupadd creates a group" groupadd trail-smoke-g
assert_ok "useradd creates a user" useradd --create-home --gid trail-smoke-g trail-smoke
assert_eq "the user resolves" "uid=1000(trail-smoke) gid=1000(trail-smoke-g) groups=1000(trail-smoke-g)" "$(run id trail-smoke)"
assert_ok "the home directory belongs to the user" 'test "$(stat -c %U /home/trail-smoke)" = trail-smoke'
assert_ok "userdel removes the user" userdel --remove trail-smoke
assert_fails "the user is gone" id trail-smoke
assert_ok "groupdel removes the group" groupdel trail-smoke-g

cat >"$tmp/trail-smoke.service" <<'UNIT'
[Unit]
Description=trail e2e smoke unit

[Service]
ExecStart=/bin/sh -c 'echo smoke unit started; exec sleep infinity'
UNIT
copy_in "$tmp/trail-smoke.service" /etc/systemd/system/trail-smoke.service
assert_ok "systemd reloads" systemctl daemon-reload
assert_ok "the unit starts" systemctl start trail-smoke.service
assert_eq "the unit is active" active "$(run systemctl is-active trail-smoke.service)"
assert_eventually "the unit logs to the journal" 'journalctl -u trail-smoke.service -o cat | grep -qx "smoke unit started"'
assert_ok "the unit stops" systemctl stop trail-smoke.service
assert_eq "the unit is inactive" inactive "$(run systemctl is-active trail-smoke.service)"

assert_ok "apt reads the local repo" apt-get update
assert_ok "apt installs a local package" apt-get install -y trail-e2e-hello=1.0
assert_eq "the package's program runs" "trail-e2e-hello 1.0" "$(run trail-e2e-hello)"
assert_eq "dpkg records it installed" "install ok installed 1.0" "$(run "dpkg-query -W -f '\${Status} \${Version}' trail-e2e-hello")"
assert_ok "apt removes it" apt-get remove -y trail-e2e-hello
assert_fails "the program is gone" command -v trail-e2e-hello
assert_ok "apt installs a package with its dependency" apt-get install -y trail-e2e-svc
assert_eq "the dependency comes at its newest version" "trail-e2e-hello 2.0" "$(run trail-e2e-hello)"
assert_ok "the packaged unit starts" systemctl start trail-e2e-svc.service
assert_eventually "the packaged unit reads its conffile" 'journalctl -u trail-e2e-svc.service -o cat | grep -qx greeting=hello'
assert_ok "apt purges both" apt-get purge -y trail-e2e-svc trail-e2e-hello
assert_fails "the conffile is gone" test -e /etc/trail-e2e-svc.conf

if [ -n "${E2E_TRAIL_DEB:-}" ]; then
	# Installed from its Debian package, as an admin does.
	assert_eq "dpkg records trail installed" "install ok installed" "$(run "dpkg-query -W -f '\${Status}' trail")"
	assert_eq "trail on PATH is the packaged one" /usr/bin/trail "$(run command -v trail)"
	assert_eq "/var/lib/trail is root's alone" "700 root" "$(run "stat -c '%a %U' /var/lib/trail")"
	assert_ok "the units run the packaged trail" 'systemctl cat trail-pull.service | grep -qx "ExecStart=/usr/bin/trail pull"'
	assert_eq "the units are shipped, not enabled" disabled "$(run systemctl is-enabled trail-pull.timer)"
	assert_ok "systemd accepts the packaged units" systemd-analyze verify --man=no trail-watch.service trail-pull.service trail-pull.timer
	assert_ok "the manual pages are installed" test -f /usr/share/man/man1/trail.1.gz -a -f /usr/share/man/man5/trail-config.5.gz
fi
assert_ok "trail is installed" command -v trail
rc=0
out=$(run trail 2>&1) || rc=$?
if [ "$rc" -lt 124 ]; then
	pass "trail executes (exit $rc)"
else
	fail "trail executes" "exit $rc (could not run or was killed)" "$out"
fi
