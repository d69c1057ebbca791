#!/usr/bin/env bash
# repo.sh OUT_DIR [DEB_DIR...] — build every package under e2e/debs/, add
# the ready .debs of each DEB_DIR as they are (real Debian packages from
# mirrordebs.sh), and write a flat, unsigned apt repository (Packages and
# Release) into OUT_DIR, so machines can install packages without a
# network:
#
#   deb [trusted=yes] file:/srv/trail-e2e/repo ./
#
# A package is a directory debs/NAME_VERSION holding DEBIAN/control and
# the files it installs. Modes are normalised (0755 for directories and
# executables, 0644 otherwise) so a checkout's umask cannot change a build.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib/common.sh"

[ $# -ge 1 ] || e2e_die "usage: $0 OUT_DIR [DEB_DIR...]"
out=$1
shift
mkdir -p "$out"
out=$(cd "$out" && pwd)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

# index DEB appends DEB's stanza, its own control fields first.
index() {
	{
		dpkg-deb -f "$1"
		printf 'Filename: ./%s\n' "$(basename "$1")"
		printf 'Size: %s\n' "$(stat -c %s "$1")"
		printf 'SHA256: %s\n\n' "$(sha256sum <"$1" | cut -d' ' -f1)"
	} >>"$out/Packages"
}

: >"$out/Packages"
for src in "$here"/debs/*/; do
	src=${src%/}
	name=$(basename "$src")
	[ -f "$src/DEBIAN/control" ] || e2e_die "$src: no DEBIAN/control; a package directory needs one"
	tree="$stage/$name"
	cp -R "$src" "$tree"
	find "$tree" -type d -exec chmod 0755 {} +
	find "$tree" -type f -perm /111 -exec chmod 0755 {} +
	find "$tree" -type f ! -perm /111 -exec chmod 0644 {} +
	deb="$out/${name}_all.deb"
	dpkg-deb --root-owner-group -Zgzip --build "$tree" "$deb" >/dev/null ||
		e2e_die "$src: dpkg-deb could not build it; fix DEBIAN/control"
	index "$deb"
done

for dir in "$@"; do
	found=0
	for deb in "$dir"/*.deb; do
		[ -f "$deb" ] || continue
		cp "$deb" "$out/"
		index "$out/$(basename "$deb")"
		found=1
	done
	[ "$found" = 1 ] || e2e_die "$dir: no .deb files to add"
done

{
	printf 'Origin: trail-e2e\nLabel: trail-e2e\n'
	printf 'Date: %s\n' "$(LC_ALL=C date -u '+%a, %d %b %Y %H:%M:%S UTC')"
	printf 'SHA256:\n %s %s Packages\n' "$(sha256sum <"$out/Packages" | cut -d' ' -f1)" "$(stat -c %s "$out/Packages")"
} >"$out/Release"
