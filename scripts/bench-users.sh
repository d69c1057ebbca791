#!/usr/bin/env bash
# Users as whole processes: a config of N users (USERS, default 10000),
# each a plain `user "uNNNNN" {}` block (a group of its own name, a home
# from /etc/skel, ids chosen as useradd chooses them), applied by
# `trail apply` to a --root sandbox shaped like Debian bookworm (its
# login.defs, default/useradd and skel, /etc/subuid and /etc/subgid, so
# that each user gets its subordinate ids), then removed again by `trail
# apply --allow-mass-removal` of a commit without them. The baseline is
# `useradd --root R -m -U` (and `userdel --root R`) run for BASE of the
# users (default 1000) in the same script, scaled to N: each call
# rewrites files that grow, so the scaled time underestimates the tools
# at N. Prints wall seconds and the ratios trail / tools.
set -eu
trail=$(realpath "${TRAIL:-bin/trail}")
users=${USERS:-10000}
base=${BASE:-1000}
D=$(mktemp -d "${TMPDIR:-/tmp}/trail-bench.XXXXXX")
trap 'rm -rf "$D"' EXIT
export GIT_CONFIG_GLOBAL="$D/gitconfig" GIT_CONFIG_NOSYSTEM=1
git config --global user.name bench
git config --global user.email bench@example.org
git config --global init.defaultBranch main

# root DIR: an empty Debian-shaped root for the shadow tools.
root() {
	mkdir -p "$1/etc/default" "$1/etc/skel" "$1/home" "$1/srv"
	printf 'root:x:0:0:root:/root:/bin/bash\n' > "$1/etc/passwd"
	printf 'root:x:0:\nstaff:x:50:\nusers:x:100:\n' > "$1/etc/group"
	printf 'root:*:19000:0:99999:7:::\n' > "$1/etc/shadow"
	printf 'root:*::\nstaff:*::\nusers:*::\n' > "$1/etc/gshadow"
	: > "$1/etc/subuid"
	: > "$1/etc/subgid"
	chmod 640 "$1/etc/shadow" "$1/etc/gshadow"
	# Debian's subordinate ranges (SUB_UID_MAX 600100000, 65536 each) hold
	# 9,155 users: useradd refuses the next. They are widened here.
	printf 'MAIL_DIR /var/mail\nUMASK 022\nPASS_MAX_DAYS 99999\nPASS_MIN_DAYS 0\nPASS_WARN_AGE 7\nUID_MIN 1000\nUID_MAX 60000\nGID_MIN 1000\nGID_MAX 60000\nUSERGROUPS_ENAB yes\nSUB_UID_MAX 1000000000\nSUB_GID_MAX 1000000000\n' > "$1/etc/login.defs"
	printf 'SHELL=/bin/sh\n' > "$1/etc/default/useradd"
	printf '# ~/.bash_logout\n' > "$1/etc/skel/.bash_logout"
	printf '# ~/.bashrc\n' > "$1/etc/skel/.bashrc"
	printf '# ~/.profile\n' > "$1/etc/skel/.profile"
}

# secs CMD...: wall seconds of CMD.
secs() {
	local start end
	start=$(date +%s%N)
	"$@" > /dev/null
	end=$(date +%s%N)
	awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", (b - a) / 1e9 }'
}

mkdir -p "$D/repo"
root "$D/root"
{
	echo 'directory "/srv/a" {}'
	for ((i = 0; i < users; i++)); do printf 'user "u%05d" {}\n' "$i"; done
} > "$D/repo/main.hcl"
git -C "$D/repo" init -q
git -C "$D/repo" add -A
git -C "$D/repo" commit -qm "$users users"
cd "$D/repo"
"$trail" init --no-apply --root "$D/root" --state "$D/state" --metrics off --journal off > /dev/null
add=$(secs "$trail" apply)
[ "$(grep -c '^u[0-9]' "$D/root/etc/passwd")" = "$users" ] || { echo "bench-users: the apply did not create $users users" >&2; exit 1; }
echo 'directory "/srv/a" {}' > main.hcl
git commit -qam "no users"
del=$(secs "$trail" apply --allow-mass-removal)
[ "$(grep -c '^u[0-9]' "$D/root/etc/passwd")" = 0 ] || { echo "bench-users: the apply did not remove the users" >&2; exit 1; }

root "$D/tools"
tadd() { for ((i = 0; i < base; i++)); do useradd --root "$D/tools" -m -U "$(printf 'u%05d' "$i")"; done; }
tdel() { for ((i = 0; i < base; i++)); do userdel --root "$D/tools" "$(printf 'u%05d' "$i")"; done; }
uadd=$(secs tadd)
udel=$(secs tdel)

printf 'trail vs the shadow tools, %d users (tools timed on %d, scaled), wall seconds:\n' "$users" "$base"
row() {
	awk -v w="$1" -v t="$2" -v u="$3" -v n="$users" -v b="$base" 'BEGIN {
		s = u * n / b
		printf "  %-22s trail %8.2f s   tools %8.2f s (%.1f ms a user)   %.3fx\n", w, t, s, u * 1000 / b, t / s }'
}
row "add (first apply)" "$add" "$uadd"
row "remove (apply)" "$del" "$udel"
