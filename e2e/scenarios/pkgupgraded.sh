#!/usr/bin/env bash
# pkgupgraded: trail-e2e-agent 1.0, installed before trail and marked
# automatic, is upgraded to 2.0 by trail-e2e-console's install (2.0
# changes its conffile, makes the system user trail-e2e-agent and
# enables its unit) and declared by a package block of its own, after or
# before that install. Every way back leaves the agent as a fresh apply
# of that commit would, and the rollback to before trail gives back the
# snapshot (packages with their versions and marks, /etc byte for byte,
# conffiles included, the accounts, the units and their links), with no
# "left at" note:
#   1. console, then the block; git checkout of the base takes both at once;
#   2. the same again; console goes first (the declared agent goes back to
#      1.0, as a fresh apply of the block alone leaves it), then the block;
#   3. the block first, then console; the block goes first (the agent
#      stays at 2.0 for console, marked automatic again), then console.
. "$E2E_LIB/scenario.sh"
. "$E2E_LIB/admin.sh"
. "$E2E_LIB/snapshot.sh"

wants=/etc/systemd/system/multi-user.target.wants/trail-e2e-agent.service
# userdel rewrites the shadow tools' backup copies, which trail does not
# put back.
snapshot_unhash /etc/passwd- /etc/group- /etc/shadow- /etc/gshadow-
sections=(packages etc accounts units)

# agent_is NAME VERSION MARK [USER]: trail-e2e-agent at VERSION, marked
# MARK (auto or manual), with its conffile of that version and, when
# USER is "user", the user and the enablement link 2.0's postinst made,
# else neither.
agent_is() {
	local name=$1 version=$2 mark=$3 made=${4:-}
	assert_eq "$name: trail-e2e-agent is at $version" "install ok installed $version" "$(pkg_state trail-e2e-agent)"
	assert_ok "$name: marked $mark" "apt-mark show$mark | grep -qx trail-e2e-agent"
	assert_contains "$name: its conffile is $version's" "$(run cat /etc/trail-e2e-agent.conf)" "trail-e2e-agent $version configuration"
	if [ "$made" = user ]; then
		assert_ok "$name: with the user 2.0's postinst made" getent passwd trail-e2e-agent
		assert_ok "$name: and its enablement link" test -L $wants
	else
		assert_fails "$name: without the user 2.0's postinst made" getent passwd trail-e2e-agent
		assert_fails "$name: nor its enablement link" test -e $wants -o -L $wants
	fi
}

# commit_files MESSAGE FILE...: the admin's config holds the base and
# FILE... (console, agent) alone; prints the commit.
commit_files() {
	local msg=$1 f
	shift
	run 'rm -f /srv/admin/console.hcl /srv/admin/agent.hcl'
	for f in "$@"; do
		run "printf 'package \"trail-e2e-$f\" {}\n' >/srv/admin/$f.hcl"
	done
	git_commit /srv/admin "$msg"
}

# pull NAME: git pull deploys the admin's last commit.
pull() {
	assert_ok "git pull deploys $1" 'cd /srv/config && git pull -q' || exit 1
}

# back_to_base NAME: git checkout of the base commit, then the snapshot,
# no note, and back on main (which applies main's commit again).
back_to_base() {
	assert_ok "$1: git checkout of the base commit rolls back" "cd /srv/config && git checkout -q $c0" || exit 1
	assert_eq "$1: trail-e2e-console is purged" absent "$(pkg_state trail-e2e-console)"
	agent_is "$1" 1.0 auto
	snapshot_after "${sections[@]}"
	assert_eq "$1: nothing was left or kept" "0" "$(run 'journalctl -t trail -o cat | grep -c -e "left at" -e kept')"
	assert_ok "$1: git checkout main applies main again" 'cd /srv/config && git checkout -q main' || exit 1
}

assert_ok "apt reads the local repo" apt-get update || exit 1
run 'mkdir -p /srv/admin && cd /srv/admin && git init -q -b main' || exit 1
# Enough base steps that a pull removing one package is not a mass removal.
run "for f in base base2 base3; do printf 'file \"/srv/trail-e2e-%s\" {\n  content = \"base\\\\n\"\n}\n' \$f; done >/srv/admin/base.hcl"
c0=$(git_commit /srv/admin 'base')
assert_ok "the host checkout is cloned" git clone -q /srv/admin /srv/config || exit 1
assert_ok "trail-e2e-agent 1.0 is installed before trail, marked automatic" \
	'apt-get install -y -q trail-e2e-agent=1.0 >/dev/null && apt-mark auto trail-e2e-agent >/dev/null' || exit 1
agent_is "before trail" 1.0 auto
snapshot_before "${sections[@]}" || exit 1
assert_ok "trail init applies the base commit" 'cd /srv/config && trail init' || exit 1

# 1. Declared after the install that upgraded it; both go at once.
commit_files 'console' console >/dev/null
pull "console"
agent_is "console's install upgraded it" 2.0 auto user
commit_files 'console and the agent' console agent >/dev/null
pull "the agent's block"
agent_is "declared" 2.0 manual user
back_to_base "1"

# 2. Main (console and the agent) again; console goes first.
agent_is "main again" 2.0 manual user
commit_files 'the agent alone' agent >/dev/null
pull "the agent without console"
assert_eq "console is purged" absent "$(pkg_state trail-e2e-console)"
agent_is "the declared agent without console, as a fresh apply leaves it" 1.0 manual
commit_files 'nothing' >/dev/null
pull "the base alone"
agent_is "the block gone too" 1.0 auto
snapshot_after "${sections[@]}"

# 3. Declared before the install that upgraded it; the block goes first.
commit_files 'the agent' agent >/dev/null
pull "the agent's block"
agent_is "declared before console" 1.0 manual
commit_files 'the agent and console' agent console >/dev/null
pull "console"
agent_is "console's install upgraded the declared agent" 2.0 manual user
commit_files 'console alone' console >/dev/null
pull "console without the agent's block"
agent_is "console without the block, as a fresh apply leaves it" 2.0 auto user
commit_files 'nothing again' >/dev/null
pull "the base alone again"
assert_eq "console is purged" absent "$(pkg_state trail-e2e-console)"
agent_is "console gone too" 1.0 auto
snapshot_after "${sections[@]}"
assert_eq "nothing was left or kept" "0" "$(run 'journalctl -t trail -o cat | grep -c -e "left at" -e kept')"
