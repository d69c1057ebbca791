#!/usr/bin/env bash
# rootfs.sh CACHE_DIR — print the path of a cached tarball holding a
# minimal Debian bookworm root that boots under systemd-nspawn, building it
# first when missing.
#
# The tarball name carries a hash of this file, so changing the package
# list or the setup below builds a new root; older roots are removed. The
# mirror is the one this host's apt uses (E2E_MIRROR overrides it).
# Exits 77 after "e2e: SKIP: ..." when a root cannot be built here.
set -euo pipefail

SUITE=bookworm
# What the scenarios need: a booted systemd with journald and D-Bus, git,
# apt and dpkg, useradd/groupadd, ps.
PACKAGES=(systemd systemd-sysv dbus git ca-certificates passwd apt procps)

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib/common.sh"
. "$here/lib/mirror.sh"

[ $# -eq 1 ] || e2e_die "usage: $0 CACHE_DIR"
cache=$1
e2e_need_root
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
arch=$(dpkg --print-architecture)
key=$(e2e_hash "${BASH_SOURCE[0]}")
tarball="$cache/rootfs-$SUITE-$arch-$key.tar"

if [ -f "$tarball" ]; then
	printf '%s\n' "$tarball"
	exit 0
fi

# One builder at a time per cache; a second one waits and reuses.
exec 9>"$cache/rootfs.lock"
flock 9
if [ -f "$tarball" ]; then
	printf '%s\n' "$tarball"
	exit 0
fi

e2e_host_install debootstrap:debootstrap
if [ -n "${E2E_MIRROR:-}" ]; then
	where="E2E_MIRROR=$E2E_MIRROR"
else
	where="/etc/apt/sources.list and /etc/apt/sources.list.d/ (set E2E_MIRROR=URI to name one)"
fi
mirror=$(e2e_mirror "$SUITE") ||
	e2e_skip "no reachable Debian mirror serves $SUITE; looked in $where"

# debootstrap fetches with wget, which does not read apt's proxy setting.
if [ -z "${http_proxy:-}" ]; then
	eval "$(apt-config shell http_proxy Acquire::http::Proxy)"
	[ -n "${http_proxy:-}" ] && export http_proxy
fi

work=$(mktemp -d "$cache/build.XXXXXX")
root="$work/root"
cleanup() {
	local m
	# debootstrap leaves /proc and /sys mounted in the root when it fails.
	while read -r m; do
		umount -l "$m" 2>/dev/null || true
	done < <(awk -v w="$work/" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r)
	rm -rf --one-file-system "$work"
}
trap cleanup EXIT

keyring=()
[ -f /usr/share/keyrings/debian-archive-keyring.gpg ] &&
	keyring=(--keyring=/usr/share/keyrings/debian-archive-keyring.gpg)

e2e_say "building a Debian $SUITE root from $mirror (first run only; takes a few minutes)"
start=$(date +%s)
if ! debootstrap --variant=minbase "${keyring[@]}" \
	--include="$(IFS=,; echo "${PACKAGES[*]}")" \
	"$SUITE" "$root" "$mirror" >"$work/debootstrap.log" 2>&1; then
	tail -n 30 "$work/debootstrap.log" >&2
	e2e_die "debootstrap of $SUITE from $mirror failed; log above"
fi

# No network sources inside: scenarios install from the local file: repo
# the rig adds at boot, so they never depend on the network.
printf '# trail e2e: no network sources; see sources.list.d/trail-e2e.list\n' >"$root/etc/apt/sources.list"
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb
# Every machine gets its own machine id and its hostname from --machine.
: >"$root/etc/machine-id"
rm -f "$root/etc/hostname" "$root/var/lib/dbus/machine-id"

tar --numeric-owner --xattrs --xattrs-include='*' -C "$root" -cf "$tarball.tmp" .
mv "$tarball.tmp" "$tarball"
for old in "$cache"/rootfs-*.tar; do
	[ "$old" = "$tarball" ] || rm -f "$old"
done
e2e_say "built $(basename "$tarball") in $(($(date +%s) - start)) s"
printf '%s\n' "$tarball"
