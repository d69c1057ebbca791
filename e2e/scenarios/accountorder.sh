#!/usr/bin/env bash
# accountorder: on a real root, users and groups removed by one commit and
# created again by a checkout of the earlier one come back with the same
# lines in the same places and the same ids in all four account files, as
# a fresh apply leaves them; a group's members are in /etc/gshadow too; a
# checkout of the base commit gives the files back byte for byte; trail
# leaves no lock behind.
. "$E2E_LIB/scenario.sh"
. "$E2E_LIB/admin.sh"

files() { run 'cat /etc/passwd /etc/group /etc/shadow /etc/gshadow'; }

run 'mkdir -p /srv/admin && cd /srv/admin && git init -q -b main' || exit 1
# Enough base steps that the rollbacks are not mass removals.
run "for f in base1 base2 base3 base4 base5 base6 base7 base8; do printf 'file \"/etc/trail-e2e-%s\" {\n  content = \"base\\\\n\"\n}\n' \$f; done >/srv/admin/base.hcl"
c0=$(git_commit /srv/admin 'base')
assert_ok "the host checkout is cloned" git clone -q /srv/admin /srv/config || exit 1
assert_ok "trail init applies the base commit" 'cd /srv/config && trail init' || exit 1
initial=$(files)

run "cat >/srv/admin/accounts.hcl <<'HCL'
user \"trail-e2e-u1\" {}

group \"trail-e2e-g\" {}

user \"trail-e2e-u2\" {
  groups = [\"trail-e2e-g\", \"users\"]
}

group \"trail-e2e-team\" {
  members = [\"trail-e2e-u2\", \"trail-e2e-u1\"]
}
HCL"
c1=$(git_commit /srv/admin 'accounts')
assert_ok "git pull deploys the accounts" 'cd /srv/config && git pull -q' || exit 1
fresh=$(files)
assert_eq "the team's members are in gshadow too" "trail-e2e-team:!::trail-e2e-u1,trail-e2e-u2" "$(run grep '^trail-e2e-team:' /etc/gshadow)"

run "cat >/srv/admin/accounts.hcl <<'HCL'
user \"trail-e2e-u2\" {}
HCL"
git_commit /srv/admin 'fewer accounts' >/dev/null
assert_ok "git pull removes u1, the groups and u2's groups" 'cd /srv/config && git pull -q' || exit 1
assert_fails "u1 is gone" getent passwd trail-e2e-u1

assert_ok "git checkout of the accounts commit applies it again" "cd /srv/config && git checkout -q $c1" || exit 1
assert_eq "the account files are as the first apply left them" "$fresh" "$(files)"
assert_ok "git checkout of the base commit rolls back" "cd /srv/config && git checkout -q $c0" || exit 1
assert_eq "the account files are as before trail" "$initial" "$(files)"
assert_fails "no lock file is left in /etc" 'ls /etc/*.lock /etc/*.[0-9]* 2>/dev/null | grep -q .'
assert_ok "trail status is well" 'cd /srv/config && trail status'
