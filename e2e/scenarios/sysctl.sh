#!/usr/bin/env bash
# sysctl: git pull sets a kernel parameter in the running kernel and in
# /etc/sysctl.d; a rollback by git checkout puts back the value from
# before, saved in /run for this boot. Without the saved value (after a
# reboot) the rollback applies what sysctl.d is left with. The machine has
# its own network namespace, so net.ipv4.ip_forward is its own.
. "$E2E_LIB/scenario.sh"
. "$E2E_LIB/admin.sh"

forward() { run cat /proc/sys/net/ipv4/ip_forward; }

run 'mkdir -p /srv/admin && cd /srv/admin && git init -q -b main' || exit 1
run "for f in base1 base2 base3 base4 base5 base6; do printf 'file \"/etc/trail-e2e-%s\" {\n  content = \"base\\\\n\"\n}\n' \$f; done >/srv/admin/base.hcl"
c1=$(git_commit /srv/admin 'base')
assert_ok "the host checkout is cloned" git clone -q /srv/admin /srv/config || exit 1
assert_ok "trail init applies the base commit" 'cd /srv/config && trail init' || exit 1
assert_eq "ip_forward starts off" 0 "$(forward)" || exit 1

run "printf 'sysctl \"net.ipv4.ip_forward\" {\n  value = 1\n}\n' >/srv/admin/sysctl.hcl"
git_commit /srv/admin 'forward' >/dev/null
assert_ok "git pull deploys the sysctl" 'cd /srv/config && git pull -q' || exit 1
assert_eq "the running kernel has it" 1 "$(forward)"
assert_eq "and sysctl.d for the next boot" "net.ipv4.ip_forward = 1" "$(run cat /etc/sysctl.d/99-trail-net.ipv4.ip_forward.conf)"
assert_eq "the value before is saved for this boot" 0 "$(run cat /run/trail/sysctl/net.ipv4.ip_forward)"
assert_contains "sysctl's answer is in the journal" "$(run journalctl -t trail -o cat)" "net.ipv4.ip_forward = 1"
assert_ok "applying again does nothing" 'cd /srv/config && trail apply | grep -q "nothing to do"'

assert_ok "git checkout of the base commit rolls back" "cd /srv/config && git checkout -q $c1" || exit 1
assert_eq "the value from before is back" 0 "$(forward)"
assert_fails "the sysctl.d file is gone" test -e /etc/sysctl.d/99-trail-net.ipv4.ip_forward.conf
assert_fails "and the saved value" test -e /run/trail/sysctl/net.ipv4.ip_forward

assert_ok "git checkout main deploys it again" 'cd /srv/config && git checkout -q main' || exit 1
assert_eq "on" 1 "$(forward)"
# A reboot forgets the saved value; what sysctl.d then says is the value.
run 'rm /run/trail/sysctl/net.ipv4.ip_forward && echo "net.ipv4.ip_forward = 0" >/etc/sysctl.d/50-e2e.conf' || exit 1
assert_ok "a rollback without the saved value" "cd /srv/config && git checkout -q $c1" || exit 1
assert_eq "applies what sysctl.d is left with" 0 "$(forward)"
assert_ok "trail status is OK" 'cd /srv/config && trail status | grep -q "^TRAIL OK"'
