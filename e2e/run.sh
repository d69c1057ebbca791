#!/usr/bin/env bash
# run.sh [SCENARIO...] — the driver behind `make e2e`. Ensures the cached
# Debian root, unpacks it once, builds the local apt repo, then runs every
# scenario (default: scenarios/*.sh; a name or a path picks some) in its own
# freshly booted machine, and ends with the line "N passed, N failed".
#
# A scenario that installs real Debian packages names them in a line
#   # e2e-debs: nginx curl
# mirrordebs.sh downloads them and what they need into the cache, and the
# local apt repo serves them. Where no mirror is reachable those scenarios
# are skipped, loudly and with the reason, and the others still run.
#
# Environment: CACHE (root tarball cache, default the Makefile's:
# ${XDG_CACHE_HOME:-~/.cache}/trail-e2e, outside the checkout), TRAIL_DEB
# (trail's Debian package, which every machine installs with apt-get; the
# Makefile builds and passes it), TRAIL_BIN (without TRAIL_DEB, copied in;
# default bin/trail), E2E_STRICT=1 (a skip fails), and everything boot.sh
# reads.
#
# Exits 0 when every check passed, 1 when one failed or the rig broke, and
# 0 after "e2e: SKIP: ..." only where the rig cannot work on this host.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
. "$here/lib/common.sh"

CACHE=${CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/trail-e2e}
TRAIL_BIN=${TRAIL_BIN:-$top/bin/trail}
passed=0
failed=0
skips=0
tmp=
child=

cleanup() {
	if [ -n "$child" ]; then
		kill -TERM "$child" 2>/dev/null
		wait "$child" 2>/dev/null
	fi
	[ -n "$tmp" ] && rm -rf --one-file-system "$tmp"
	return 0
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

summary() {
	printf '%d passed, %d failed\n' "$passed" "$failed"
	[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
	exit $?
}

skipped() {
	echo "e2e: SKIP: no end-to-end test ran on this host (the reason is above)" >&2
	[ "${E2E_STRICT:-}" = 1 ] && exit 1
	exit 0
}

# broken WHAT: the rig itself failed; that is a failed check, not a skip.
broken() {
	printf 'FAIL: rig: %s\n' "$*"
	failed=$((failed + 1))
	summary
}

# step CMD...: run a setup command in a subshell, so that its e2e_skip
# ends only the step; 77 means this host cannot run the rig.
step() {
	local rc=0
	("$@") || rc=$?
	[ "$rc" -eq "$E2E_SKIP_CODE" ] && skipped
	return "$rc"
}

# run_bg CMD...: run in the background and wait, so a signal reaches the
# traps above at once and cleanup can stop the child.
run_bg() {
	local rc=0
	"$@" &
	child=$!
	wait "$child" || rc=$?
	child=
	return "$rc"
}

step e2e_need_root
step e2e_host_install systemd-nspawn:systemd-container nsenter:util-linux \
	flock:util-linux timeout:coreutils dpkg-deb:dpkg tar:tar ||
	broken "could not install the host tools"
if [ -n "${TRAIL_DEB:-}" ]; then
	[ -f "$TRAIL_DEB" ] || broken "no trail package at $TRAIL_DEB; run make deb"
else
	[ -x "$TRAIL_BIN" ] || broken "no trail binary at $TRAIL_BIN; run make build"
fi

scenarios=()
if [ $# -eq 0 ]; then
	for s in "$here"/scenarios/*.sh; do
		[ -f "$s" ] && scenarios+=("$s")
	done
else
	for s in "$@"; do
		[ -f "$s" ] || s="$here/scenarios/${s%.sh}.sh"
		[ -f "$s" ] || broken "no scenario $s"
		scenarios+=("$s")
	done
fi
[ ${#scenarios[@]} -gt 0 ] || broken "no scenarios in $here/scenarios"

# debs_of SCENARIO prints the real Debian packages it declares.
debs_of() {
	sed -n 's/^# e2e-debs:[[:space:]]*//p' "$1" | tr -s ' \t' '\n' | sed '/^$/d'
}
mapfile -t debs < <(for s in "${scenarios[@]}"; do debs_of "$s"; done | sort -u)

start=$SECONDS
rc=0
tarball=$("$here/rootfs.sh" "$CACHE") || rc=$?
[ "$rc" -eq "$E2E_SKIP_CODE" ] && skipped
[ "$rc" -eq 0 ] || broken "could not build the Debian root (see above)"
tmp=$(mktemp -d "${E2E_TMPDIR:-/var/tmp}/trail-e2e-run.XXXXXX")
mkdir "$tmp/base"
tar --numeric-owner --xattrs --xattrs-include='*' -C "$tmp/base" -xf "$tarball" ||
	broken "could not unpack $tarball"
debdirs=()
nodebs=
if [ ${#debs[@]} -gt 0 ]; then
	rc=0
	debdir=$("$here/mirrordebs.sh" "$CACHE" "$tmp/base" "${debs[@]}") || rc=$?
	if [ "$rc" -eq "$E2E_SKIP_CODE" ]; then
		nodebs="no Debian mirror to download ${debs[*]} from (see above)"
	elif [ "$rc" -ne 0 ]; then
		broken "could not download ${debs[*]} from the mirror (see above)"
	else
		debdirs=("$debdir")
	fi
fi
"$here/repo.sh" "$tmp/repo" "${debdirs[@]}" || broken "could not build the local apt repo"
e2e_say "root ready in $((SECONDS - start)) s"

export E2E_REPO="$tmp/repo" E2E_TRAIL_BIN="$TRAIL_BIN" E2E_TRAIL_DEB="${TRAIL_DEB:-}"
booted=0
for s in "${scenarios[@]}"; do
	name=$(basename "$s" .sh)
	if [ -n "$nodebs" ] && [ -n "$(debs_of "$s")" ]; then
		echo "e2e: SKIP: $name: $nodebs" >&2
		skips=$((skips + 1))
		[ "${E2E_STRICT:-}" = 1 ] && printf 'FAIL: %s: skipped under E2E_STRICT=1: %s\n' "$name" "$nodebs" && failed=$((failed + 1))
		continue
	fi
	results="$tmp/results.$name"
	: >"$results"
	t=$SECONDS
	rc=0
	E2E_SCENARIO=$name E2E_RESULTS=$results run_bg "$here/boot.sh" "$tmp/base" bash "$s" || rc=$?
	if [ "$rc" -eq "$E2E_SKIP_CODE" ]; then
		[ "$booted" -eq 0 ] && skipped
		printf 'FAIL: %s: the machine did not boot\n' "$name"
		failed=$((failed + 1))
		continue
	fi
	booted=1
	p=$(grep -c '^PASS ' "$results")
	f=$(grep -c '^FAIL ' "$results")
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		printf 'FAIL: %s: the scenario exited %d\n' "$name" "$rc"
		failed=$((failed + 1))
	elif [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		printf 'FAIL: %s: the scenario checked nothing\n' "$name"
		failed=$((failed + 1))
	fi
	e2e_say "$name: $p passed, $f failed in $((SECONDS - t)) s"
done
e2e_say "all done in $((SECONDS - start)) s"
[ "$skips" -gt 0 ] && e2e_say "$skips scenario(s) skipped; see the e2e: SKIP lines above"
# Every scenario skipped: nothing could run here, which is a skip too.
[ "$skips" -eq ${#scenarios[@]} ] && [ "${E2E_STRICT:-}" != 1 ] && skipped
summary
