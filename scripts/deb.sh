#!/usr/bin/env bash
# deb.sh OUT_DIR — build trail's Debian package with Debian's own tooling
# (dpkg-buildpackage -b -us -uc, debhelper) from a copy of this source
# tree and leave trail_*.deb, the .buildinfo and .changes in OUT_DIR.
# Prints the .deb's path last. make deb-test checks it, lintian included.
#
# The copy holds the files git knows or would add (git ls-files -co
# --exclude-standard), so build products of the checkout never get in and
# the tree is left as it was.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[ $# -eq 1 ] || { echo "usage: $0 OUT_DIR" >&2; exit 2; }
mkdir -p "$1"
out=$(cd "$1" && pwd)
for tool in dpkg-buildpackage:dpkg-dev dh:debhelper; do
	command -v "${tool%%:*}" >/dev/null ||
		{ echo "deb: ${tool%%:*} missing: apt-get install ${tool#*:} (or run .ci/deps)" >&2; exit 1; }
done
command -v go >/dev/null || { echo "deb: go missing: debian/rules builds with the go on PATH" >&2; exit 1; }

version=$(cd "$top" && dpkg-parsechangelog -SVersion)
work=$(mktemp -d "${TMPDIR:-/tmp}/trail-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
src="$work/trail-$version"
mkdir "$src"
(cd "$top" && git ls-files -z -co --exclude-standard | while IFS= read -r -d '' f; do
	[ -e "$f" ] && printf '%s\0' "$f"
done | tar --null -T - -cf -) | tar -C "$src" -xf -

(cd "$src" && dpkg-buildpackage -b -us -uc) >"$work/build.log" 2>&1 || {
	tail -n 40 "$work/build.log" >&2
	echo "deb: dpkg-buildpackage failed; the log's end is above" >&2
	exit 1
}
arch=$(dpkg --print-architecture)
rm -f "$out"/trail_*.deb "$out"/trail-dbgsym_* "$out"/trail_*.buildinfo "$out"/trail_*.changes
for f in "$work"/*.deb "$work"/*.ddeb "$work"/*.buildinfo "$work"/*.changes; do
	[ -e "$f" ] && mv "$f" "$out/"
done
echo "$out/trail_${version}_${arch}.deb"
