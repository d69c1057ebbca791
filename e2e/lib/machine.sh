# machine.sh: reach into a machine booted by boot.sh, from the host.
#
# Needs E2E_PID, the machine's init as seen from the host (boot.sh exports
# it). Commands enter every namespace of that init with nsenter and run as
# root with a clean environment, so nothing of the host leaks in.

E2E_RUN_TIMEOUT=${E2E_RUN_TIMEOUT:-120}

# machine_exec ARGV... runs ARGV inside the machine exactly as given;
# stdin, stdout, stderr and the exit status pass through. A command that
# outlives E2E_RUN_TIMEOUT seconds is abandoned (status 124; boot.sh's
# teardown kills what is left); 0 means no limit.
machine_exec() {
	local limit=()
	if [ -z "${E2E_PID:-}" ] || [ ! -d "/proc/$E2E_PID" ]; then
		echo "e2e: no machine to run in (E2E_PID='${E2E_PID:-}'); run this under boot.sh" >&2
		return 125
	fi
	[ "$E2E_RUN_TIMEOUT" = 0 ] || limit=(timeout --foreground -k 5 "$E2E_RUN_TIMEOUT")
	"${limit[@]}" nsenter -t "$E2E_PID" -a -r -w -- \
		/usr/bin/env -i \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LANG=C.UTF-8 TERM=dumb DEBIAN_FRONTEND=noninteractive \
		SYSTEMD_PAGER= SYSTEMD_COLORS=0 \
		"$@"
}

# run CMD... runs CMD inside the machine through /bin/sh -c, the words
# joined by spaces as ssh does: run 'echo hi | systemd-cat -t x' works.
run() {
	machine_exec /bin/sh -c "$*"
}

# copy_in SRC DEST copies a host file (keeping its mode) or directory
# tree into the machine. A file lands whole or not at all (temp + rename),
# and DEST may be under the machine's own tmpfs mounts such as /tmp.
copy_in() {
	local src=$1 dest=$2
	if [ -d "$src" ]; then
		tar -C "$src" -cf - . | machine_exec /bin/sh -c 'mkdir -p "$1" && tar -xf - -C "$1" --no-same-owner' sh "$dest"
	elif [ -f "$src" ]; then
		machine_exec /bin/sh -c 'mkdir -p "$(dirname "$1")" && cat >"$1.e2e-tmp" && chmod "$2" "$1.e2e-tmp" && mv -f "$1.e2e-tmp" "$1"' \
			sh "$dest" "$(stat -c %a "$src")" <"$src"
	else
		echo "e2e: copy_in: $src is neither a file nor a directory" >&2
		return 1
	fi
}

# copy_out SRC DEST copies a file from inside the machine to the host.
copy_out() {
	machine_exec /bin/cat "$1" >"$2"
}
