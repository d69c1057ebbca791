# mirror.sh: finds the Debian mirror this host's apt already uses, so no
# host name is ever written into the project. E2E_MIRROR overrides it.

E2E_LIB=${E2E_LIB:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}

# e2e_mirror_candidates [APT_ETC] prints, once each and in apt's reading
# order, the URIs of enabled "deb" sources whose suite is a plain release
# name (no -security, -updates, -backports). mirror+file: lists are
# expanded to the URIs they hold.
e2e_mirror_candidates() {
	local etc=${1:-/etc/apt} files=() f uri suite
	[ -f "$etc/sources.list" ] && files+=("$etc/sources.list")
	for f in "$etc"/sources.list.d/*.list "$etc"/sources.list.d/*.sources; do
		[ -f "$f" ] && files+=("$f")
	done
	[ ${#files[@]} -eq 0 ] && return 0
	awk -f "$E2E_LIB/aptsources.awk" "${files[@]}" |
		while IFS=$'\t' read -r uri suite; do
			case $suite in *-* | */* | '') continue ;; esac
			case $uri in
			mirror+file:*)
				f=${uri#mirror+file:}
				[ -f "$f" ] && awk '!/^[ \t]*(#|$)/ { print $1 }' "$f"
				;;
			*) printf '%s\n' "$uri" ;;
			esac
		done | while read -r uri; do
			case $uri in
			http://* | https://* | file:/*) printf '%s\n' "${uri%/}" ;;
			esac
		done | awk '!seen[$0]++'
}

# e2e_probe_mirror URI SUITE succeeds when URI serves the Debian SUITE:
# its Release file is reachable and says Origin Debian and that codename.
e2e_probe_mirror() {
	local uri=${1%/} suite=$2 tmp ok=1
	tmp=$(mktemp -d)
	if timeout 60 /usr/lib/apt/apt-helper download-file "$uri/dists/$suite/Release" "$tmp/Release" >/dev/null 2>&1 &&
		grep -qx 'Origin: Debian' "$tmp/Release" &&
		grep -qx "Codename: $suite" "$tmp/Release"; then
		ok=0
	fi
	rm -rf "$tmp"
	return $ok
}

# e2e_mirror SUITE prints the first reachable Debian mirror for SUITE
# (E2E_MIRROR alone when set), or fails when there is none.
e2e_mirror() {
	local suite=$1 uri
	while read -r uri; do
		if e2e_probe_mirror "$uri" "$suite"; then
			printf '%s\n' "$uri"
			return 0
		fi
	done < <(if [ -n "${E2E_MIRROR:-}" ]; then
		printf '%s\n' "${E2E_MIRROR%/}"
	else
		e2e_mirror_candidates /etc/apt
	fi)
	return 1
}
