# common.sh: messages and exit conventions shared by the rig's scripts.
#
# A script that cannot work on this host (not root, no mirror, nspawn
# cannot boot) exits with E2E_SKIP_CODE after printing "e2e: SKIP: why";
# run.sh turns that into a loud skip with exit 0. Any other non-zero exit
# is a failure.

E2E_SKIP_CODE=77

e2e_say() { printf 'e2e: %s\n' "$*" >&2; }

e2e_skip() {
	printf 'e2e: SKIP: %s\n' "$*" >&2
	exit "$E2E_SKIP_CODE"
}

e2e_die() {
	printf 'e2e: error: %s\n' "$*" >&2
	exit 1
}

# e2e_need_root skips unless the caller is root: debootstrap, nspawn and
# nsenter all need it.
e2e_need_root() {
	[ "$(id -u)" -eq 0 ] || e2e_skip "must run as root (debootstrap and systemd-nspawn need it); try: sudo make e2e"
}

# e2e_host_install CMD:PKG... installs the Debian package for every missing
# command. A failed install means the host's mirror is unreachable, which
# makes the rig impossible here, so it skips.
e2e_host_install() {
	local need=() pair log
	for pair in "$@"; do
		command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
	done
	[ ${#need[@]} -eq 0 ] && return 0
	e2e_say "installing on the host: ${need[*]}"
	log=$(mktemp)
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get -o DPkg::Lock::Timeout=300 update >"$log" 2>&1; then
		tail -n 20 "$log" >&2
		rm -f "$log"
		e2e_skip "apt-get update failed, no Debian mirror reachable to install ${need[*]}"
	fi
	if ! apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends "${need[@]}" >"$log" 2>&1; then
		tail -n 20 "$log" >&2
		rm -f "$log"
		e2e_skip "cannot install ${need[*]} from the host's apt sources; install them by hand"
	fi
	rm -f "$log"
}

# e2e_hash FILE... prints a short content hash of the files, in order.
e2e_hash() {
	cat "$@" | sha256sum | cut -c1-12
}
