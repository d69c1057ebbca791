#!/usr/bin/env bash
# fileparts: what roles say about files a package ships, with the real
# Debian openssh-server and sudo and their own checkers. One commit
# installs openssh-server, edits sshd_config in place (checked by sshd -t,
# which the same commit installs, so the check runs right before the
# write), tightens
# the mode of /etc/ssh/moduli alone, and writes a sudoers drop-in checked
# by visudo -cf; sshd restarts for the edit and runs with it. A commit
# whose edit sshd -t refuses, and one whose drop-in visudo refuses,
# change nothing, and status names the block. git checkout of the commit
# from before trail gives back the packages and /etc exactly.
#
# e2e-debs: openssh-server openssh-client sudo
. "$E2E_LIB/scenario.sh"
. "$E2E_LIB/admin.sh"
. "$E2E_LIB/snapshot.sh"

sha() { run sha256sum "$1" | cut -d' ' -f1; }
# The shadow tools' backups (passwd- and the like) are left out of the
# hashes: what they hold depends on which tool ran last (the package's
# adduser, trail's removal of the account it made), not on the machine's
# state; the account files themselves are compared.
snapshot_unhash /etc/passwd- /etc/group- /etc/shadow- /etc/gshadow-

# write_config SSHD_LINE SUDOERS_LINE: the config, with the line the edit
# puts in sshd_config and the line of the sudoers drop-in.
write_config() {
	run "cat >/srv/admin/main.hcl" <<EOF
package "openssh-server" {
  owns = ["/etc/ssh"]
}

edit "sshd" {
  path     = "/etc/ssh/sshd_config"
  validate = "sshd -t -f %s"
  edits = [
    { line = "$1", regexp = "^#?PermitRootLogin" },
    { line = "PasswordAuthentication no", regexp = "^#?PasswordAuthentication" },
    { regexp = "^X11Forwarding", absent = true },
  ]
}

file "/etc/ssh/moduli" {
  mode = "0600"
}

file "/etc/sudoers.d/admins" {
  content  = "$2\n"
  mode     = "0440"
  validate = "visudo -cf %s"
}

unit "ssh.service" {
  restart_on = [edit.sshd]
}
EOF
}

assert_ok "apt reads the local repo" apt-get update || exit 1
assert_eq "openssh-server is not installed before trail" absent "$(pkg_status openssh-server)"
# sudo is the admin's, installed before trail; the config writes a
# drop-in into its /etc/sudoers.d. So is sensible-utils, of priority
# important, on every Debian but a minbase root: without it, the
# openssh-server trail installs brings it (through ucf), and its purge
# keeps it, as passwd and util-linux, which stay, name it.
assert_ok "the admin installed sudo and sensible-utils" apt-get install -y -q sudo sensible-utils || exit 1
run 'mkdir -p /srv/admin && cd /srv/admin && git init -q -b main' || exit 1
run "printf '# Nothing is managed yet.\n' >/srv/admin/main.hcl"
c0=$(git_commit /srv/admin 'trail manages nothing yet')
assert_ok "the host checkout is cloned" git clone -q /srv/admin /srv/config || exit 1
snapshot_before packages etc || exit 1
assert_ok "trail init applies the commit that manages nothing" 'cd /srv/config && trail init' || exit 1

# 1. Packages, an edit, attributes and a checked drop-in in one commit.
write_config "PermitRootLogin no" "%sudo ALL=(ALL:ALL) NOPASSWD: ALL"
c1=$(git_commit /srv/admin 'ssh and sudo hardened')
run 'cd /srv/config && git fetch -q' || exit 1
plan=$(run 'cd /srv/config && trail plan origin/main')
assert_contains "the plan edits the file the package brings" "$plan" \
	"edit it (the file comes with a package of this apply)"
assert_contains "and checks the drop-in already" "$plan" "+ FILE /etc/sudoers.d/admins"
assert_ok "git pull deploys it" 'cd /srv/config && git pull -q' || exit 1
assert_eq "trail applied it" "$c1" "$(applied)" || exit 1
effective=$(run sshd -T -C user=root -C host=localhost -C addr=127.0.0.1)
assert_contains "sshd runs with the edit" "$effective" "permitrootlogin no"
assert_contains "and the second" "$effective" "passwordauthentication no"
assert_fails "X11Forwarding is gone from sshd_config" grep -q '^X11Forwarding' /etc/ssh/sshd_config
assert_ok "the rest of the package's file is there" grep -q "'^Include /etc/ssh/sshd_config.d/'" /etc/ssh/sshd_config
assert_eq "moduli has the mode asked" "600" "$(run stat -c %a /etc/ssh/moduli)"
assert_eq "the drop-in is in place" "440" "$(run stat -c %a /etc/sudoers.d/admins)"
assert_ok "sudo reads it" visudo -c
assert_eq "ssh.service is running" active "$(run systemctl is-active ssh.service)"
config1=$(sha /etc/ssh/sshd_config)
sudoers1=$(sha /etc/sudoers.d/admins)
pid1=$(main_pid ssh.service)

# 2. An edit sshd refuses: nothing changes, status names the block.
write_config "PermitRootLogn no" "%sudo ALL=(ALL:ALL) NOPASSWD: ALL"
git_commit /srv/admin 'a typo in an sshd directive' >/dev/null
assert_ok "git pull of it does not fail git" 'cd /srv/config && git pull -q'
rc=0
out=$(run 'cd /srv/config && trail status') || rc=$?
assert_eq "trail status is CRITICAL (exit 2)" 2 "$rc"
assert_contains "status names the edit block" "$out" "main.hcl:5"
assert_contains "the journal has sshd's refusal" "$(run journalctl -t trail -o cat)" "Bad configuration option: PermitRootLogn"
assert_eq "sshd_config is unchanged" "$config1" "$(sha /etc/ssh/sshd_config)"
assert_eq "sshd was not restarted" "$pid1" "$(main_pid ssh.service)"
assert_eq "the applied commit is still the first" "$c1" "$(applied)"

# 3. A drop-in visudo refuses: nothing changes.
write_config "PermitRootLogin no" "%sudo ALL=(ALL:ALL NOPASSWD: ALL"
git_commit /srv/admin 'a typo in sudoers' >/dev/null
assert_ok "git pull of it does not fail git" 'cd /srv/config && git pull -q'
assert_contains "the journal has visudo's refusal" "$(run journalctl -t trail -o cat)" "validate \`visudo -cf %s\` refused the new content"
assert_eq "the drop-in is unchanged" "$sudoers1" "$(sha /etc/sudoers.d/admins)"
assert_eq "the applied commit is still the first" "$c1" "$(applied)"

# 4. Back to before trail.
assert_ok "git checkout of the commit before trail rolls back" "cd /srv/config && git checkout -q $c0"
assert_eq "status reports that commit applied" "$c0" "$(applied)" ||
	run 'journalctl -t trail -o cat | tail -n 40' | sed 's/^/    | /'
assert_eq "openssh-server is gone" absent "$(pkg_status openssh-server)"
assert_eq "sudo, the admin's, stays" "install ok installed" "$(pkg_status sudo)"
snapshot_after packages etc
