#!/usr/bin/env bash
# pkgbatch: a role of seven real Debian packages (nginx, curl,
# openssh-server, openssh-client, sudo, cron, age), which bring their
# dependencies, deployed in one commit and rolled back to the commit
# from before them, in rounds. Each apply predicts the group's
# dependencies with one apt-get -s (a wrapper first on PATH logs every
# apt-get and apt-cache call), installs every package, and each rollback
# gives back the packages and apt's marks exactly as before the first
# apply. The machine's root account starts locked, as debootstrap leaves
# it, and sudo's prerm then refuses sudo's removal (it would leave no way
# to become root): the first rollback fails, and trail undoes it, the
# role's packages exactly as the apply left them; with a root password
# set, the rollback goes through. With E2E_TRAIL_BEFORE naming another trail binary on the host,
# the rounds alternate between it and the installed trail, and each
# apply prints a line "measure: BINARY wall user sys simulations
# policies depends" (bash's time of the apply with its children; the
# counts of apt-get -s, apt-cache policy and apt-cache depends calls).
#
# e2e-debs: nginx curl openssh-server openssh-client sudo cron age
. "$E2E_LIB/scenario.sh"
. "$E2E_LIB/admin.sh"
. "$E2E_LIB/snapshot.sh"

pkgs="nginx curl openssh-server openssh-client sudo cron age"
assert_ok "apt reads the local repo" apt-get update || exit 1
# The wrappers, and timed BIN ARGS...: BIN run in /srv/config with them
# first on PATH, printing bash's wall, user and system seconds.
tools=$(mktemp -d)
for p in apt-get apt-cache; do
	printf '#!/bin/sh\necho "%s $*" >>/root/apt.log\nexec /usr/bin/%s "$@"\n' "$p" "$p" >"$tools/$p"
done
cat >"$tools/timed" <<'SH'
#!/bin/bash
cd /srv/config || exit 1
export PATH=/root/aptwrap:$PATH TIMEFORMAT='%R %U %S'
{ time "$@" >/dev/null 2>/root/trail.err; } 2>&1 || { cat /root/trail.err; exit 1; }
SH
chmod +x "$tools"/*
copy_in "$tools" /root/aptwrap || exit 1
rm -rf "$tools"
bins=(/usr/bin/trail)
if [ -n "${E2E_TRAIL_BEFORE:-}" ]; then
	copy_in "$E2E_TRAIL_BEFORE" /root/trail-before || exit 1
	bins=(/root/trail-before /usr/bin/trail /root/trail-before /usr/bin/trail /root/trail-before /usr/bin/trail)
fi

run 'mkdir -p /srv/admin && cd /srv/admin && git init -q -b main' || exit 1
run "for f in base base2 base3; do printf 'file \"/etc/trail-e2e-%s\" {\n  content = \"base\\\\n\"\n}\n' \$f; done >/srv/admin/base.hcl"
c0=$(git_commit /srv/admin 'base')
assert_ok "the host checkout is cloned" git clone -q /srv/admin /srv/config || exit 1
snapshot_before packages || exit 1
assert_ok "trail init applies the base commit" 'cd /srv/config && trail init' || exit 1
run "for p in $pkgs; do printf 'package \"%s\" {}\n\n' \$p; done >/srv/admin/packages.hcl"
c1=$(git_commit /srv/admin 'a role of seven packages')
run 'cd /srv/config && git fetch -q' || exit 1

for bin in "${bins[@]}"; do
	run ': >/root/apt.log'
	t=$(run "/root/aptwrap/timed $bin apply $c1") ||
		{ fail "$bin applies the role" "$t"; exit 1; }
	sims=$(run "grep -cE '^apt-get( .*)? -s( |\$)' /root/apt.log")
	policies=$(run "grep -cE '^apt-cache( .*)? policy( |\$)' /root/apt.log")
	depends=$(run "grep -cE '^apt-cache( .*)? depends( |\$)' /root/apt.log")
	printf 'measure: %s %s %s %s %s\n' "$bin" "$t" "$sims" "$policies" "$depends"
	for p in $pkgs; do
		assert_eq "$bin installed $p" "install ok installed" "$(pkg_status "$p")"
	done
	[ "$bin" = /usr/bin/trail ] && assert_eq "one simulation predicts the group's dependencies" 1 "$sims"
	if [ -z "${unlocked:-}" ]; then
		role=$(snapshot packages)
		assert_fails "$bin's rollback fails: sudo's prerm refuses while root is locked" \
			"cd /srv/config && $bin apply --allow-mass-removal $c0 >/dev/null"
		assert_eq "the failed rollback is undone: the role's packages and marks as the apply left them" "$role" "$(snapshot packages)"
		assert_eq "$bin is still at the role's commit" "$c1" "$(applied)"
		assert_ok "root gets a password" "echo root:e2e | chpasswd" || exit 1
		unlocked=1
	fi
	assert_ok "$bin rolls back to the commit before the role" "cd /srv/config && $bin apply --allow-mass-removal $c0 >/dev/null" || exit 1
	snapshot_after packages
done
