#!/usr/bin/env bash
# cron: the real Debian cron daemon runs what a `cron` block writes to
# /etc/cron.d. cron is the admin's, installed before trail, with a job of
# its own (a tick every minute, the clock of the waits below) that the
# admin wrote before installing it: cron reads it when it starts. A commit
# adds a job that runs every minute with an environment variable and a %
# in its command: cron runs it (the journal shows CRON running it, the
# marker file fills). A commit that changes the schedule and the command
# runs the new one, and never the old one again; its % reaches the shell
# as a %. git checkout of the commit from before trail gives back the
# packages, /etc, the accounts and the units exactly, and the job never
# runs again while the admin's tick goes on.
#
# Every wait is for cron's minute: a poll, bounded by cron_wait seconds.
#
# cron notices a new or removed file of /etc/cron.d only by the
# directory's mtime in whole seconds: a change in the second of its look,
# after an earlier change in that second, goes unseen until the next
# change. dpkg writes to /etc/cron.d (cron-daemon-common's conffile)
# moments before it starts cron, and trail places a file by a temporary
# name and a rename: a job written then can be missed for good. So the
# admin's tick is there before cron, and after each apply the directory's
# mtime must be in a later second than trail's last change to it (trail
# moves it there).
#
# e2e-debs: cron
. "$E2E_LIB/scenario.sh"
. "$E2E_LIB/admin.sh"
. "$E2E_LIB/snapshot.sh"

job=/etc/cron.d/trail-e2e
marker=/var/tmp/trail-e2e-cron
tick=/var/tmp/trail-e2e-tick
# cron runs a job at the start of the minute after it reads it; it reads
# /etc/cron.d at the start of each minute. Two minutes and a half leave
# room for a slow machine.
cron_wait=150

# write_cron SCHEDULE COMMAND: the config, one cron block.
write_cron() {
	run "cat >/srv/admin/main.hcl" <<EOF
cron "trail-e2e" {
  schedule    = "$1"
  command     = "$2"
  environment = { WHO = "trail" }
}
EOF
}

# wait_until NAME CMD: passes once CMD succeeds inside the machine, polled
# every second for up to cron_wait seconds.
wait_until() {
	local name=$1 deadline=$((SECONDS + cron_wait))
	shift
	until run "$@" >/dev/null 2>&1; do
		if [ "$SECONDS" -ge "$deadline" ]; then
			fail "$name" "'$*' still fails after $cron_wait s" "$(cron_state)"
			return 1
		fi
		sleep 1
	done
	pass "$name"
}

# cron_state: why cron may not have run a job, in 20 lines: the clock,
# /etc/cron.d's and its files' times, the daemon, its log.
cron_state() {
	run "date '+now %F %T.%N'; stat -c '%n mtime %y ctime %z' /etc/cron.d /etc/cron.d/*; systemctl show -p ActiveState -p MainPID cron | tr '\n' ' '; echo; journalctl -u cron -o short-iso-precise | tail -n 10" 2>&1
}

# placed_past_second NAME: passes when /etc/cron.d's mtime is in a later
# second than the last change of $job (its ctime, set by the rename that
# placed it), so that cron reads the directory again at its next look.
placed_past_second() {
	local d f
	d=$(run stat -c %Y /etc/cron.d) f=$(run stat -c %Z $job)
	if [ -n "$d" ] && [ -n "$f" ] && [ "$d" -gt "$f" ]; then
		pass "$1"
	else
		fail "$1" "/etc/cron.d's mtime ($d) is not after the second of the job's placement ($f)" "$(cron_state)"
	fi
}

# next_minute: the epoch second of the start of the machine's next minute.
next_minute() { echo $(($(run date +%s) / 60 * 60 + 60)); }

# ticked_since EPOCH: a command that succeeds once the admin's tick ran at
# or after EPOCH.
ticked_since() { echo "awk -v t=$1 '\$1 >= t { found = 1 } END { exit !found }' $tick"; }

# lines_since WORD EPOCH: the marker's lines of WORD written at or after EPOCH.
lines_since() { run "awk -v w=$1 -v t=$2 '\$1 == w && \$2 >= t' $marker"; }

sections=(packages etc accounts units)

assert_ok "apt reads the local repo" apt-get update || exit 1
assert_eq "cron is not installed yet" absent "$(pkg_status cron)"
# The admin's tick; whether it runs is checked at the end.
run "printf '* * * * * root date +\\\\%%s >>$tick\n' >/etc/cron.d/trail-e2e-tick" || exit 1
assert_ok "the admin installs cron" apt-get install -y -q cron || exit 1
assert_eq "cron is running" active "$(run systemctl is-active cron.service)" || exit 1

run 'mkdir -p /srv/admin && cd /srv/admin && git init -q -b main' || exit 1
run "printf '# Nothing is managed yet.\n' >/srv/admin/main.hcl"
c0=$(git_commit /srv/admin 'trail manages nothing yet')
assert_ok "the host checkout is cloned" git clone -q /srv/admin /srv/config || exit 1
snapshot_before "${sections[@]}" || exit 1
assert_ok "trail init applies the commit that manages nothing" 'cd /srv/config && trail init' || exit 1

# 1. A job every minute, with an environment variable and a % (in date's
# format) that cron must pass to the shell.
write_cron '* * * * *' 'echo one $(date +%s) $WHO >>'"$marker"
c1=$(git_commit /srv/admin 'a cron job every minute')
assert_ok "git pull deploys the job" 'cd /srv/config && git pull -q' || exit 1
assert_eq "trail applied it" "$c1" "$(applied)" || exit 1
placed_past_second "/etc/cron.d's mtime is in a later second than the job's placement"
assert_eq "the job file is root's, mode 0644, one link, as cron wants" "644 root:root 1" "$(run stat -c "'%a %U:%G %h'" $job)"
assert_eq "its last line is the job, the % escaped, and it ends in a newline" \
	"* * * * * root echo one \$(date +\\%s) \$WHO >>$marker" "$(run tail -n 1 $job)"
assert_eq "the file ends in a newline" "" "$(run "tail -c 1 $job | tr -d '\n'")"
wait_until "cron runs the job" "grep -q '^one [0-9]* trail\$' $marker" || exit 1
assert_contains "the journal shows CRON running it, the % unescaped" "$(run journalctl -t CRON -o cat)" "(root) CMD (echo one \$(date +%s) \$WHO >>$marker)"

# 2. Another schedule and another command, with a % the shell prints.
write_cron '*/1 * * * *' 'echo two $(date +%s) 50% $WHO >>'"$marker"
c2=$(git_commit /srv/admin 'another schedule and command')
assert_ok "git pull deploys the change" 'cd /srv/config && git pull -q' || exit 1
assert_eq "trail applied it" "$c2" "$(applied)" || exit 1
placed_past_second "/etc/cron.d's mtime is in a later second than the new job's placement"
assert_eq "the job line is the new one" "*/1 * * * * root echo two \$(date +\\%s) 50\\% \$WHO >>$marker" "$(run tail -n 1 $job)"
wait_until "cron runs the new command" "grep -q '^two [0-9]* 50% trail\$' $marker" || exit 1
first_two=$(run "awk '\$1 == \"two\" { print \$2; exit }' $marker")
assert_eq "the % reached the shell as a %" "two $first_two 50% trail" "$(run "grep -m1 '^two ' $marker")"
assert_eq "the old command did not run from the minute the new one did" "" "$(lines_since one $((first_two / 60 * 60)))"
assert_contains "the journal shows CRON running the new command" "$(run journalctl -t CRON -o cat)" "(root) CMD (echo two \$(date +%s) 50% \$WHO >>$marker)"

# 3. Back to before trail.
assert_ok "git checkout of the commit before trail rolls back" "cd /srv/config && git checkout -q $c0" || exit 1
assert_eq "status reports that commit applied" "$c0" "$(applied)"
assert_fails "the job file is gone" test -e $job
snapshot_after "${sections[@]}"
# The job is gone from the minute after the rollback on. The tick of the
# minute after that one shows cron ran the minute's jobs, and had time to
# finish them.
gone=$(next_minute)
wait_until "the admin's tick goes on after the rollback" "$(ticked_since $((gone + 60)))" || exit 1
assert_eq "the job did not run since the rollback" "" "$(lines_since two "$gone")"
assert_eq "and cron did not start it" "" "$(run "journalctl -t CRON -o cat --since @$gone | grep 'CMD (echo two' || true")"
