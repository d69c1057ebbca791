#!/usr/bin/env bash
# boot.sh ROOT [COMMAND [ARG...]] — boot a throwaway Debian machine with
# systemd-nspawn, run COMMAND on the host while it is up, then tear it
# down: also when COMMAND fails, times out or the script is interrupted.
# Without COMMAND: a login shell inside.
#
# ROOT is a root tarball from rootfs.sh, unpacked into a private directory,
# or an unpacked root directory, booted read-only under a tmpfs overlay
# (--volatile=overlay) so that many machines share one unpacking and leave
# it untouched.
#
# COMMAND sees E2E_PID (the machine's init, for nsenter), E2E_MACHINE (its
# name and hostname) and E2E_LIB; `. "$E2E_LIB/machine.sh"` gives it run,
# copy_in and copy_out.
#
# Optional environment:
#   E2E_REPO              a repo.sh output dir, served inside as the apt
#                         source file:/srv/trail-e2e/repo
#   E2E_TRAIL_DEB         trail's Debian package (make deb), installed
#                         inside with apt-get install ./trail_*.deb, as an
#                         admin installs it: /usr/bin/trail
#   E2E_TRAIL_BIN         without E2E_TRAIL_DEB: a binary copied in as
#                         /usr/local/bin/trail
#   E2E_BOOT_TIMEOUT      seconds to wait for systemd to settle (60)
#   E2E_COMMAND_TIMEOUT   seconds COMMAND may run (600)
#   E2E_TMPDIR            where machines are unpacked (/var/tmp)
#
# Exits with COMMAND's status (77 becomes 1), or 77 after "e2e: SKIP: ..."
# when the machine does not boot.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export E2E_LIB="$here/lib"
. "$E2E_LIB/common.sh"
. "$E2E_LIB/machine.sh"

[ $# -ge 1 ] || e2e_die "usage: $0 ROOT [COMMAND [ARG...]]"
src=$1
shift
[ -e "$src" ] || e2e_die "$src: no such root tarball or directory; build one with e2e/rootfs.sh CACHE_DIR"
e2e_need_root
command -v systemd-nspawn >/dev/null || e2e_die "systemd-nspawn missing; apt-get install systemd-container"

boot_timeout=${E2E_BOOT_TIMEOUT:-60}
name="trail-e2e-$$-$RANDOM"
work=$(mktemp -d "${E2E_TMPDIR:-/var/tmp}/$name.XXXXXX")
root="$work/root"
console="$work/console.log"
nspawn_pid=
cmd_pid=
E2E_PID=

# alive PID: running and not a zombie awaiting its parent's wait.
alive() {
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	[ "${st%% *}" != Z ]
}

teardown() {
	local rc=$? i m
	trap - EXIT INT TERM HUP
	# The machine is disposable, so it is killed rather than shut down: a
	# halt would SIGSTOP commands entered with nsenter and wait for them,
	# while their nsenter, outside, stops too and never resumes. Killing the
	# init of a pid namespace kills every process in it.
	[ -n "$E2E_PID" ] && kill -KILL "$E2E_PID" 2>/dev/null
	# COMMAND runs under timeout, which leads its own process group.
	if [ -n "$cmd_pid" ]; then
		kill -TERM -- "-$cmd_pid" 2>/dev/null || true
		for ((i = 0; i < 50; i++)); do
			alive "$cmd_pid" || break
			sleep 0.1
		done
		kill -KILL -- "-$cmd_pid" 2>/dev/null || true
		wait "$cmd_pid" 2>/dev/null || true
	fi
	if [ -n "$nspawn_pid" ]; then
		kill -TERM "$nspawn_pid" 2>/dev/null || true
		for ((i = 0; i < 300; i++)); do
			alive "$nspawn_pid" || break
			sleep 0.1
		done
		if alive "$nspawn_pid"; then
			e2e_say "systemd-nspawn for $name did not exit within 30 s; killing it"
			kill -KILL "$nspawn_pid" 2>/dev/null || true
		fi
		wait "$nspawn_pid" 2>/dev/null || true
	fi
	# nspawn mounts inside its own namespace; anything seen here is stray.
	while read -r m; do
		umount -l "$m" 2>/dev/null || true
	done < <(awk -v w="$work/" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r)
	rm -rf --one-file-system "$work"
	rm -rf "/run/systemd/nspawn/propagate/$name"
	exit "$rc"
}
trap teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# seconds FROM_NS TO_NS prints the span in seconds with one decimal.
seconds() {
	local ds=$((($2 - $1) / 100000000))
	printf '%d.%d' $((ds / 10)) $((ds % 10))
}

# no_boot WHY: the machine did not come up; show why, then skip.
no_boot() {
	e2e_say "systemd-nspawn output:"
	tail -n 40 "$console" | sed 's/^/    /' >&2
	e2e_skip "systemd-nspawn cannot boot a machine here: $*"
}

t0=$(date +%s%N)
volatile=()
if [ -d "$src" ]; then
	root=$(cd "$src" && pwd)
	volatile=(--volatile=overlay)
else
	mkdir -p "$root"
	tar --numeric-owner --xattrs --xattrs-include='*' -C "$root" -xf "$src"
fi
t1=$(date +%s%N)

# --keep-unit runs the machine in the caller's cgroup. On a host booted
# with systemd that must be a unit delegated to nspawn, not a login
# session, so a transient scope is made for it; systemd-run --scope execs
# nspawn in place, so $! stays nspawn's pid.
scope=()
if [ -d /run/systemd/system ] && command -v systemd-run >/dev/null; then
	scope=(systemd-run --scope --quiet --collect -p Delegate=yes --unit="$name" --)
fi
# Job control gives nspawn its own process group: a ^C meant for this
# script must not reach it, as nspawn would start a halt (see teardown).
set -m
"${scope[@]}" systemd-nspawn --boot --register=no --keep-unit --private-network "${volatile[@]}" \
	--machine="$name" --directory="$root" </dev/null >"$console" 2>&1 &
nspawn_pid=$!
set +m

# The machine's init is the child of nspawn that is PID 1 of its own pid
# namespace; wait until it has become systemd.
deadline=$((SECONDS + boot_timeout))
while [ -z "$E2E_PID" ]; do
	alive "$nspawn_pid" || no_boot "systemd-nspawn exited before the machine started"
	for c in $(cat /proc/"$nspawn_pid"/task/*/children 2>/dev/null); do
		if grep -Eq '^NSpid:[[:space:]]+[0-9]+[[:space:]]+1$' "/proc/$c/status" 2>/dev/null &&
			[ "$(cat "/proc/$c/comm" 2>/dev/null)" = systemd ]; then
			E2E_PID=$c
		fi
	done
	[ "$SECONDS" -lt "$deadline" ] || no_boot "no init appeared within $boot_timeout s"
	[ -n "$E2E_PID" ] || sleep 0.05
done

state=
while :; do
	state=$(E2E_RUN_TIMEOUT=$boot_timeout machine_exec systemctl is-system-running --wait 2>/dev/null) || true
	case $state in running | degraded) break ;; esac
	alive "$nspawn_pid" || no_boot "the machine stopped while starting (state '$state')"
	[ "$SECONDS" -lt "$deadline" ] || no_boot "systemd did not settle within $boot_timeout s (state '$state')"
	sleep 0.1
done
t2=$(date +%s%N)
if [ "$state" = degraded ]; then
	e2e_say "$name is degraded; failed units:"
	machine_exec systemctl --failed --no-legend --plain | sed 's/^/    /' >&2 || true
fi
e2e_say "$name up: unpack $(seconds "$t0" "$t1") s, boot $(seconds "$t1" "$t2") s"

if [ -n "${E2E_REPO:-}" ]; then
	copy_in "$E2E_REPO" /srv/trail-e2e/repo &&
		run "echo 'deb [trusted=yes] file:/srv/trail-e2e/repo ./' >/etc/apt/sources.list.d/trail-e2e.list" ||
		e2e_die "could not add the apt repo $E2E_REPO to $name"
fi
if [ -n "${E2E_TRAIL_DEB:-}" ]; then
	deb="/tmp/trail-e2e-deb/$(basename "$E2E_TRAIL_DEB")"
	copy_in "$E2E_TRAIL_DEB" "$deb" ||
		e2e_die "could not copy $E2E_TRAIL_DEB into $name"
	if ! out=$(machine_exec apt-get install -y --no-install-recommends "$deb" 2>&1); then
		printf '%s\n' "$out" | tail -n 20 >&2
		e2e_die "apt-get install $deb failed in $name (output above)"
	fi
	run "rm -rf /tmp/trail-e2e-deb"
elif [ -n "${E2E_TRAIL_BIN:-}" ]; then
	copy_in "$E2E_TRAIL_BIN" /usr/local/bin/trail ||
		e2e_die "could not copy $E2E_TRAIL_BIN into $name"
fi

export E2E_PID E2E_MACHINE="$name"
if [ $# -eq 0 ]; then
	# A ^C belongs to the shell inside, not to this script.
	trap : INT
	E2E_RUN_TIMEOUT=0 machine_exec /bin/bash -l || true
	exit 0
fi
# In the background so the traps above run the moment a signal arrives;
# stdin is handed on explicitly, as & would give it /dev/null.
timeout -k 10 "${E2E_COMMAND_TIMEOUT:-600}" "$@" <&0 &
cmd_pid=$!
rc=0
wait "$cmd_pid" || rc=$?
cmd_pid=
[ "$rc" -eq 124 ] && e2e_say "$* timed out after ${E2E_COMMAND_TIMEOUT:-600} s"
[ "$rc" -eq "$E2E_SKIP_CODE" ] && rc=1
exit "$rc"
