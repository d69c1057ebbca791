# snapshot.sh: the machine as seen from outside trail, one section at a
# time, for the scenarios that roll back to before trail and check that
# the machine is given back exactly. Sourced after scenario.sh:
#
#   snapshot_before SECTION...   before trail's first apply; fails (and
#                                the scenario should exit) if it cannot
#   snapshot_after SECTION...    after the rollback: one check a section,
#                                "SECTION equal the snapshot from before trail",
#                                with the diff when it fails
#
# Sections:
#   packages  dpkg -l (a purged package is no package) and apt's manual marks
#   etc       every path under /etc with its mode, owner and link target,
#             and the sha256 of every file but those snapshot_unhash names
#   accounts  /etc/passwd, group, shadow and gshadow, whole
#   units     enabled and masked unit files, the wants and requires links
#
# snapshot_unhash PATH... names files under /etc whose content the
# scenario does not compare (they are still listed with their mode and
# owner); the scenario says why.
#
# The snapshots are kept in a directory on the host that a trap on EXIT
# removes: a scenario that sources this sets no EXIT trap of its own.

_snapshot_unhashed=

_snapshot_script='
case $1 in
packages)
	dpkg-query -W -f "\${db:Status-Abbrev}\${Package}:\${Architecture} \${Version}\n" | grep -v "^un" | sort
	echo "-- apt-mark showmanual"
	apt-mark showmanual | sort
	;;
etc)
	find /etc -xdev -printf "%p %M %u:%g %l\n" | sort
	echo "-- sha256"
	skip=()
	for p in $2; do skip+=(! -path "$p"); done
	find /etc -xdev -type f "${skip[@]}" -print0 | sort -z | xargs -0 sha256sum
	;;
accounts)
	for f in /etc/passwd /etc/group /etc/shadow /etc/gshadow; do
		echo "-- $f"
		cat "$f"
	done
	;;
units)
	systemctl list-unit-files --state=enabled,masked --no-legend --no-pager | sort
	echo "-- wants and requires links"
	find /etc/systemd/system -xdev \( -path "*.wants/*" -o -path "*.requires/*" \) -printf "%p -> %l\n" | sort
	;;
*)
	echo "snapshot: no section $1" >&2
	exit 2
	;;
esac'

_snapshot_dir=$(mktemp -d)
trap 'rm -rf "$_snapshot_dir"' EXIT

# snapshot SECTION prints that section of the machine's snapshot.
snapshot() {
	machine_exec bash -c "$_snapshot_script" snapshot "$1" "$_snapshot_unhashed"
}

snapshot_unhash() {
	_snapshot_unhashed="$*"
}

snapshot_before() {
	local s
	for s in "$@"; do
		snapshot "$s" >"$_snapshot_dir/$s.before" || {
			fail "snapshot before trail" "could not take the $s snapshot"
			return 1
		}
	done
}

snapshot_after() {
	local s d
	for s in "$@"; do
		if ! snapshot "$s" >"$_snapshot_dir/$s.after"; then
			fail "$s equal the snapshot from before trail" "could not take the $s snapshot"
			continue
		fi
		if d=$(diff -u --label "$s before trail" --label "$s after rollback" "$_snapshot_dir/$s.before" "$_snapshot_dir/$s.after"); then
			pass "$s equal the snapshot from before trail"
		else
			printf '%s\n' "$d" | head -n 150 | sed 's/^/    | /'
			fail "$s equal the snapshot from before trail" "$(printf '%s\n' "$d" | grep -c '^[-+][^-+]') lines differ (diff above)"
		fi
	done
}
