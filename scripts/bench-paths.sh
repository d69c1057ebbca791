#!/usr/bin/env bash
# The paths that do work, against cp and rsync on the same tree: a config of
# N files (FILES, default 10000; FILES=100000 for the large case) synced by
# one `tree` block, timed as whole processes in this one script:
#
#   first apply         trail apply on an empty root   vs cp -a + sync, rsync -a
#   take-over           trail apply on a root that holds the tree already
#                       (its pre-images saved)        vs cp -a + sync
#   one changed file    git pull (its hook applies)    vs rsync -a
#   rollback            git checkout HEAD~1 (its hook
#                       applies the commit before)     vs rsync -a of one file
#   force               trail apply --force            vs rsync -a (nothing to do)
#   status              trail status                   vs rsync -an (dry run)
#
# Each is the median of RUNS runs (default 3) of wall seconds and of CPU
# seconds (user + system, children included), with the peak resident
# memory of the process tree (GNU time's %M, which for git pull is its
# largest child, the hook's trail). Prints ratios trail / baseline. Every
# measured command starts after a sync, outside its timing, so that each
# flushes only its own writes (a sandbox's clone is written just before
# its first apply); the first apply and cp -a run in turn, alternating
# which goes first.
#
# TURNS=N measures only the one-changed-file path, in turn: at 100,000 files
# a single ratio follows the shared machine's load more than trail. After
# one first apply, each of N turns changes one file upstream and runs, back
# to back (in alternating order), `git pull` (its hook applies) and
# `rsync -a` of the same change, then prints both wall times, both CPU
# seconds (user + system, children included) and the pair's ratio. SPLIT=1
# adds to each turn, on a second change, `git pull` with hooks off and then
# `trail apply` alone: git's part and trail's.
#
# METRICS=1 has trail write a metrics file, as on a host with Debian's
# prometheus-node-exporter installed; without it the metrics are off.
#
# LOAD=N runs N busy loops for as long as the measurements run, so that
# "on a loaded machine" is the same load each time rather than whatever
# else the machine is doing (LOAD=2 on 2 cores keeps both busy).
set -eu
trail=$(realpath "${TRAIL:-bin/trail}")
files=${FILES:-10000}
runs=${RUNS:-3}
timebin=/usr/bin/time
[ -x "$timebin" ] || { echo "bench-paths: needs GNU time at $timebin (apt-get install time)" >&2; exit 1; }
command -v rsync > /dev/null || { echo "bench-paths: needs rsync (apt-get install rsync)" >&2; exit 1; }
D=$(mktemp -d "${TMPDIR:-/tmp}/trail-bench.XXXXXX")
loops=()
trap 'kill "${loops[@]}" 2> /dev/null || :; rm -rf "$D"' EXIT
export GIT_CONFIG_GLOBAL="$D/gitconfig" GIT_CONFIG_NOSYSTEM=1
git config --global user.name bench
git config --global user.email bench@example.org
git config --global init.defaultBranch main
git config --global pull.ff only
# No automatic gc: one detached after the first commit races the clones
# (which link its loose objects) and takes a core while trail is timed.
git config --global gc.auto 0

mkdir -p "$D/src/site"
# Files "file N\n" in directories d0, d1, ... of 100 each, written by one awk.
(cd "$D/src/site" && mkdir $(seq -f 'd%.0f' 0 $(((files - 1) / 100))) &&
	awk -v n="$files" 'BEGIN { for (i = 0; i < n; i++) { f = "d" int(i / 100) "/f" i; print "file " i > f; close(f) } }')
printf 'tree "site" {\n  path = "/srv/site"\n  source = "site"\n}\n' > "$D/src/main.hcl"
git -C "$D/src" init -q
git -C "$D/src" add -A
git -C "$D/src" commit -qm "$files files"
# The upstream holds one pack, as a clone over the network brings it: a
# clone that copies no object file, rather than a repack, which would
# delete every loose one just before the first measurement.
git clone -q --no-local "$D/src" "$D/upstream"

# measure NAME CMD...: runs CMD once, after a sync, appending "seconds kib
# user system" to $D/NAME.
measure() {
	local name=$1
	shift
	sync
	"$timebin" -f '%e %M %U %S' -o "$D/t" "$@" > /dev/null 2> "$D/err" || { cat "$D/err" >&2; exit 1; }
	cat "$D/t" >> "$D/$name"
}

# fresh N: an empty root, state and clone of upstream for run N.
fresh() {
	R="$D/run$1"
	sandbox "$R"
}

# sandbox DIR: an empty root, state and clone of upstream under DIR.
sandbox() {
	local R=$1
	mkdir -p "$R/root/etc" "$R/root/srv"
	printf 'root:x:0:0:root:/root:/bin/sh\n' > "$R/root/etc/passwd"
	printf 'root:x:0:\n' > "$R/root/etc/group"
	git clone -q "$D/upstream" "$R/repo"
	(cd "$R/repo" && "$trail" init --no-apply --root "$R/root" --state "$R/state" --metrics "$(if [ -n "${METRICS:-}" ]; then echo "$R/trail.prom"; else echo off; fi)" --journal off > /dev/null)
}

# cpu NAME: wall and CPU seconds of the last run appended to $D/NAME.
cpu() { awk '{ printf "%5.2f s %5.2f cpu", $1, $3 + $4 }' < <(tail -1 "$D/$1"); }

# busy: LOAD busy loops, from here to the end of the script.
for ((i = 0; i < ${LOAD:-0}; i++)); do
	sh -c 'while :; do :; done' &
	loops+=($!)
done

if [ -n "${TURNS:-}" ]; then
	fresh turns
	cd "$R/repo"
	"$trail" apply > /dev/null
	rsync -a "$D/upstream/site/" "$D/rs/"
	turn() { measure "$@"; }
	change() {
		echo "changed $1" >> "$D/upstream/site/d0/f0"
		git -C "$D/upstream" commit -qam "change $1"
	}
	printf '%d files, one changed file, %d turns in turn%s (wall s, CPU s = user + sys):\n' "$files" "$TURNS" "${METRICS:+, with a metrics file}"
	for ((n = 0; n < TURNS; n++)); do
		if [ -n "${SPLIT:-}" ]; then
			change "split $n"
			turn git-nohooks git -c core.hooksPath=/dev/null pull -q
			turn trail-alone "$trail" apply
			printf '  split %2d: git pull, hooks off %s; trail apply alone %s\n' "$n" "$(cpu git-nohooks)" "$(cpu trail-alone)"
		fi
		change "$n"
		if ((n % 2 == 0)); then
			turn trail-pull git pull -q
			turn rsync-one rsync -a "$D/upstream/site/" "$D/rs/"
		else
			turn rsync-one rsync -a "$D/upstream/site/" "$D/rs/"
			turn trail-pull git pull -q
		fi
		printf '  turn %3d: git pull %s; rsync -a %s; ratio %.1fx wall, %.1fx cpu\n' "$n" "$(cpu trail-pull)" "$(cpu rsync-one)" \
			"$(paste -d' ' <(tail -1 "$D/trail-pull") <(tail -1 "$D/rsync-one") | awk '{ print ($5 > 0 ? $1 / $5 : 0) }')" \
			"$(paste -d' ' <(tail -1 "$D/trail-pull") <(tail -1 "$D/rsync-one") | awk '{ c = $7 + $8; print (c > 0 ? ($3 + $4) / c : 0) }')"
	done
	# The range over the turns of each pair's ratio, and the medians.
	paste -d' ' "$D/trail-pull" "$D/rsync-one" | awk '
		{ w[NR] = $1 / $5; c[NR] = ($7 + $8 > 0 ? ($3 + $4) / ($7 + $8) : 0); pw[NR] = $1; rw[NR] = $5; pc[NR] = $3 + $4; rc[NR] = $7 + $8 }
		function med(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
			return a[int((n + 1) / 2)] }
		function lo(a, n) { med(a, n); return a[1] }
		function hi(a, n) { med(a, n); return a[n] }
		END { printf "  ratio %.1f-%.1fx wall (median %.1fx), %.1f-%.1fx cpu; git pull %.2f-%.2f s, %.2f-%.2f cpu; rsync %.2f-%.2f s, %.2f-%.2f cpu\n",
			lo(w, NR), hi(w, NR), med(w, NR), lo(c, NR), hi(c, NR), lo(pw, NR), hi(pw, NR), lo(pc, NR), hi(pc, NR), lo(rw, NR), hi(rw, NR), lo(rc, NR), hi(rc, NR) }'
	exit 0
fi

for ((n = 0; n < runs; n++)); do
	fresh "$n"
	cd "$R/repo"
	cpfirst=(sh -c "cp -a '$R/repo/site' '$R/cp' && sync")
	if ((n % 2)); then measure cp-first "${cpfirst[@]}"; fi
	measure trail-first "$trail" apply
	if ((n % 2 == 0)); then measure cp-first "${cpfirst[@]}"; fi
	measure trail-force "$trail" apply --force
	measure trail-status "$trail" status
	echo "changed $n" >> "$D/upstream/site/d0/f0"
	git -C "$D/upstream" commit -qam "change $n"
	measure trail-pull git pull -q
	measure trail-back git checkout -q HEAD~1
	cd "$D"

	sandbox "$R/take"
	cp -a "$R/take/repo/site" "$R/take/root/srv/site" && sync
	(cd "$R/take/repo" && measure trail-take "$trail" apply)
	measure rsync-first rsync -a "$D/upstream/site/" "$R/rs/"
	measure rsync-force rsync -a "$D/upstream/site/" "$R/rs/"
	measure rsync-dry rsync -an "$D/upstream/site/" "$R/rs/"
	echo "changed again $n" >> "$D/upstream/site/d0/f0"
	measure rsync-one rsync -a "$D/upstream/site/" "$R/rs/"
	# Each run's trees stay until the end: creating a file, ext4 looks at
	# and passes over each free inode deleted in the last minute or more,
	# so that a first apply or cp -a right after a removal of 100,000 files
	# costs up to ten times the system time it does on a quiet file system.
done

# median NAME COLUMN: the median of a column of $D/NAME; COLUMN cpu is
# user + system.
median() {
	awk -v c="$2" '{ print (c == "cpu" ? $3 + $4 : $c) }' "$D/$1" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }'; }
row() {
	local t b tc bc
	t=$(median "$2" 1)
	b=$(median "$3" 1)
	tc=$(median "$2" cpu)
	bc=$(median "$3" cpu)
	printf '  %-20s %6.2f s %5.2f cpu %5d MiB   %-12s %6.2f s %5.2f cpu   %5sx %5sx\n' "$1" "$t" "$tc" "$(($(median "$2" 2) / 1024))" \
		"$3" "$b" "$bc" "$(ratio "$t" "$b")" "$(ratio "$tc" "$bc")"
}
printf 'trail vs cp/rsync, %d files in one tree, median of %d runs%s (wall seconds, CPU seconds = user + sys, peak RSS):\n' "$files" "$runs" \
	"$(if [ "${LOAD:-0}" -gt 0 ]; then echo ", $LOAD busy loops running"; fi)"
printf '  %-20s %8s %9s %9s   %-12s %8s %9s   %6s %6s\n' path trail cpu rss baseline time cpu wall cpu
row "first apply" trail-first cp-first
row "first apply" trail-first rsync-first
row "take-over" trail-take cp-first
row "one file (pull)" trail-pull rsync-one
row "rollback (checkout)" trail-back rsync-one
row "apply --force" trail-force rsync-force
row "status" trail-status rsync-dry
