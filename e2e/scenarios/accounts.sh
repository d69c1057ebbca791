#!/usr/bin/env bash
# accounts: git pull creates a group and a user with the real shadow tools
# and changes a user that was there before; a rollback by git checkout
# removes what trail created (leaving the home directory, and saying so)
# and gives the earlier user its entries back exactly. A user trail never
# managed is untouched throughout.
. "$E2E_LIB/scenario.sh"
. "$E2E_LIB/admin.sh"

entries() { # NAME: its lines in the four account files
	run "grep -h '^$1:' /etc/passwd /etc/shadow /etc/group /etc/gshadow"
}

assert_ok "a user exists before trail" 'useradd -m -s /bin/sh trail-e2e-pre' || exit 1
assert_ok "and one trail never manages" 'useradd -m -s /bin/sh trail-e2e-other' || exit 1
pre_before=$(entries trail-e2e-pre)
other_before=$(entries trail-e2e-other)

run 'mkdir -p /srv/admin && cd /srv/admin && git init -q -b main' || exit 1
# Enough base steps that the rollback is not a mass removal.
run "for f in base1 base2 base3 base4 base5 base6; do printf 'file \"/etc/trail-e2e-%s\" {\n  content = \"base\\\\n\"\n}\n' \$f; done >/srv/admin/base.hcl"
c1=$(git_commit /srv/admin 'base')
assert_ok "the host checkout is cloned" git clone -q /srv/admin /srv/config || exit 1
assert_ok "trail init applies the base commit" 'cd /srv/config && trail init' || exit 1

run "cat >/srv/admin/accounts.hcl <<'HCL'
group \"trail-e2e-team\" {
  gid = 1700
}

user \"trail-e2e-user\" {
  uid    = 1701
  group  = \"trail-e2e-team\"
  groups = [\"users\"]
  shell  = \"/bin/bash\"
}

user \"trail-e2e-pre\" {
  shell  = \"/bin/bash\"
  groups = [\"trail-e2e-team\"]
}
HCL"
git_commit /srv/admin 'accounts' >/dev/null
assert_ok "git pull deploys the accounts" 'cd /srv/config && git pull -q' || exit 1
assert_eq "the group exists" "trail-e2e-team:x:1700:trail-e2e-pre" "$(run getent group trail-e2e-team)"
assert_eq "the user exists" "1701 1700" "$(run 'echo $(id -u trail-e2e-user) $(id -g trail-e2e-user)')"
assert_contains "it is in its other group" "$(run id -nG trail-e2e-user)" "users"
assert_ok "its home was made" 'test "$(stat -c %u /home/trail-e2e-user)" = 1701'
assert_contains "its password is locked" "$(run passwd -S trail-e2e-user)" " L "
assert_eq "the earlier user has its new shell" /bin/bash "$(run getent passwd trail-e2e-pre | cut -d: -f7)"
assert_ok "trail status is well" 'cd /srv/config && trail status'
assert_ok "applying again does nothing" 'cd /srv/config && trail apply | grep -q "nothing to do"'

run 'usermod -s /bin/sh trail-e2e-user' || exit 1
assert_contains "a shell changed by hand is drift" "$(run 'cd /srv/config && trail status --json')" "USER trail-e2e-user"
run 'usermod -s /bin/bash trail-e2e-user' || exit 1

assert_ok "git checkout of the base commit rolls back" "cd /srv/config && git checkout -q $c1" || exit 1
assert_fails "the user is gone" getent passwd trail-e2e-user
assert_fails "the group is gone" getent group trail-e2e-team
assert_ok "the home is left" test -d /home/trail-e2e-user
assert_contains "and the journal says so" "$(run journalctl -t trail -o cat)" "home /home/trail-e2e-user of user trail-e2e-user left in place"
assert_eq "the earlier user has its entries back exactly" "$pre_before" "$(entries trail-e2e-pre)"
assert_eq "the unmanaged user is untouched" "$other_before" "$(entries trail-e2e-other)"
assert_contains "trail log shows the rollback apply" "$(run 'cd /srv/config && trail log')" "${c1:0:7}"
