#!/usr/bin/env bash
# mirrordebs.sh CACHE_DIR ROOT_DIR PACKAGE... — print a directory holding
# the real Debian .debs of PACKAGE... and of every dependency that the
# unpacked root ROOT_DIR lacks, downloading them from the host's Debian
# mirror (lib/mirror.sh; E2E_MIRROR overrides it) the first time.
#
# apt resolves against the root's own dpkg status, with a private
# configuration: nothing of the host's apt state, cache or settings (but
# its HTTP proxy) is read or written, and the root is left untouched.
# Recommends are not taken, as trail installs without them by default.
#
# The directory is CACHE_DIR/debs-SUITE-ARCH-HASH, HASH a hash of this
# file, the root's dpkg status and the package names: a new root or another
# package list downloads afresh. Old directories are left (a few MB each)
# for concurrent runs of other checkouts; delete them by hand.
# Exits 77 after "e2e: SKIP: ..." when no reachable mirror serves the suite.
set -euo pipefail

SUITE=bookworm

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib/common.sh"
. "$here/lib/mirror.sh"

[ $# -ge 3 ] || e2e_die "usage: $0 CACHE_DIR ROOT_DIR PACKAGE..."
cache=$1
root=$2
shift 2
mapfile -t pkgs < <(printf '%s\n' "$@" | sort -u)
status="$root/var/lib/dpkg/status"
[ -f "$status" ] || e2e_die "$root: no var/lib/dpkg/status; give an unpacked root from rootfs.sh"
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
arch=$(dpkg --print-architecture)
key=$( {
	cat "${BASH_SOURCE[0]}" "$status"
	printf '%s\n' "$arch" "${pkgs[@]}"
} | sha256sum | cut -c1-12)
out="$cache/debs-$SUITE-$arch-$key"

if [ -d "$out" ]; then
	printf '%s\n' "$out"
	exit 0
fi
exec 9>"$cache/debs.lock"
flock 9
if [ -d "$out" ]; then
	printf '%s\n' "$out"
	exit 0
fi

if [ -n "${E2E_MIRROR:-}" ]; then
	where="E2E_MIRROR=$E2E_MIRROR"
else
	where="/etc/apt/sources.list and /etc/apt/sources.list.d/ (set E2E_MIRROR=URI to name one)"
fi
mirror=$(e2e_mirror "$SUITE") ||
	e2e_skip "no reachable Debian mirror serves $SUITE to download ${pkgs[*]}; looked in $where"

# The host's proxy, read before the private configuration hides it.
proxy=$(apt-config dump --format '%v%n' Acquire::http::Proxy 2>/dev/null || true)

work=$(mktemp -d "$cache/debs-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/parts" "$work/prefs" "$work/state/lists/partial" "$work/cache/archives/partial"
keyring="$root/usr/share/keyrings/debian-archive-keyring.gpg"
[ -f "$keyring" ] || e2e_die "$root has no $keyring to check the mirror's signature with"
printf 'deb [signed-by=%s] %s %s main\n' "$keyring" "$mirror" "$SUITE" >"$work/sources.list"
# APT_CONFIG is read before apt.conf.d, so pointing Dir::Etc::Parts away
# keeps every host setting (and its hooks) out.
cat >"$work/apt.conf" <<EOF
Dir::Etc::Main "/dev/null";
Dir::Etc::Parts "$work/parts";
Dir::Etc::SourceList "$work/sources.list";
Dir::Etc::SourceParts "$work/parts";
Dir::Etc::Preferences "$work/prefs/none";
Dir::Etc::PreferencesParts "$work/prefs";
Dir::State "$work/state";
Dir::State::status "$status";
Dir::Cache "$work/cache";
APT::Architecture "$arch";
APT::Install-Recommends "false";
APT::Sandbox::User "root";
Debug::NoLocking "1";
EOF
[ -n "$proxy" ] && printf 'Acquire::http::Proxy "%s";\n' "$proxy" >>"$work/apt.conf"

apt() {
	APT_CONFIG="$work/apt.conf" LC_ALL=C "$@" >>"$work/apt.log" 2>&1 || {
		tail -n 30 "$work/apt.log" >&2
		e2e_die "'$*' failed against $mirror; log above"
	}
}
e2e_say "downloading ${pkgs[*]} and what they need from $mirror (first run only)"
apt apt-get update
apt apt-get install -y --download-only "${pkgs[@]}"
shopt -s nullglob
debs=("$work"/cache/archives/*.deb)
[ ${#debs[@]} -gt 0 ] || e2e_die "apt downloaded nothing for ${pkgs[*]}; are they already in the root?"
mkdir "$work/debs"
mv "${debs[@]}" "$work/debs/"
mv "$work/debs" "$out"
e2e_say "staged ${#debs[@]} packages in $(basename "$out"): $(cd "$out" && ls | sed 's/_.*//' | tr '\n' ' ')"
printf '%s\n' "$out"
