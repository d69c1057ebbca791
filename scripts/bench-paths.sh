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
# Each is the median of RUNS runs (default 3) of wall seconds, with the peak
# resident memory of the process tree (GNU time's %M, which for git pull is
# its largest child, the hook's trail). Prints ratios trail / baseline.
set -eu
trail=$(realpath "${TRAIL:-bin/trail}")
files=${FILES:-10000}
runs=${RUNS:-3}
timebin=/usr/bin/time
[ -x "$timebin" ] || { echo "bench-paths: needs GNU time at $timebin (apt-get install time)" >&2; exit 1; }
command -v rsync > /dev/null || { echo "bench-paths: needs rsync (apt-get install rsync)" >&2; exit 1; }
D=$(mktemp -d "${TMPDIR:-/tmp}/trail-bench.XXXXXX")
trap 'rm -rf "$D"' EXIT
export GIT_CONFIG_GLOBAL="$D/gitconfig" GIT_CONFIG_NOSYSTEM=1
git config --global user.name bench
git config --global user.email bench@example.org
git config --global init.defaultBranch main
git config --global pull.ff only

mkdir -p "$D/upstream/site"
for ((i = 0; i < files; i++)); do
	d="$D/upstream/site/d$((i / 100))"
	[ -d "$d" ] || mkdir "$d"
	echo "file $i" > "$d/f$i"
done
printf 'tree "site" {\n  path = "/srv/site"\n  source = "site"\n}\n' > "$D/upstream/main.hcl"
git -C "$D/upstream" init -q
git -C "$D/upstream" add -A
git -C "$D/upstream" commit -qm "$files files"

# measure NAME CMD...: runs CMD once, appending "seconds kib" to $D/NAME.
measure() {
	local name=$1
	shift
	"$timebin" -f '%e %M' -o "$D/t" "$@" > /dev/null 2> "$D/err" || { cat "$D/err" >&2; exit 1; }
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
	(cd "$R/repo" && "$trail" init --no-apply --root "$R/root" --state "$R/state" --metrics off --journal off > /dev/null)
}

for ((n = 0; n < runs; n++)); do
	fresh "$n"
	cd "$R/repo"
	measure trail-first "$trail" apply
	measure trail-force "$trail" apply --force
	measure trail-status "$trail" status
	echo "changed $n" >> "$D/upstream/site/d0/f0"
	git -C "$D/upstream" commit -qam "change $n"
	measure trail-pull git pull -q
	measure trail-back git checkout -q HEAD~1
	cd "$D"

	measure cp-first sh -c "cp -a '$R/repo/site' '$R/cp' && sync"
	sandbox "$R/take"
	cp -a "$R/take/repo/site" "$R/take/root/srv/site" && sync
	(cd "$R/take/repo" && measure trail-take "$trail" apply)
	measure rsync-first rsync -a "$D/upstream/site/" "$R/rs/"
	measure rsync-force rsync -a "$D/upstream/site/" "$R/rs/"
	measure rsync-dry rsync -an "$D/upstream/site/" "$R/rs/"
	echo "changed again $n" >> "$D/upstream/site/d0/f0"
	measure rsync-one rsync -a "$D/upstream/site/" "$R/rs/"
	rm -rf "$R"
done

# median NAME COLUMN: the median of a column of $D/NAME.
median() { sort -n -k"$2" "$D/$1" | awk -v c="$2" '{ v[NR] = $c } END { print v[int((NR + 1) / 2)] }'; }
row() {
	local t b
	t=$(median "$2" 1)
	b=$(median "$3" 1)
	printf '  %-20s %8.2f s %6d MiB   %-14s %8.2f s   %6.1fx\n' "$1" "$t" "$(($(median "$2" 2) / 1024))" "$3" "$b" \
		"$(awk -v a="$t" -v b="$b" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }')"
}
printf 'trail vs cp/rsync, %d files in one tree, median of %d runs (wall seconds, peak RSS):\n' "$files" "$runs"
printf '  %-20s %10s %10s   %-14s %10s   %s\n' path trail rss baseline time ratio
row "first apply" trail-first cp-first
row "first apply" trail-first rsync-first
row "take-over" trail-take cp-first
row "one file (pull)" trail-pull rsync-one
row "rollback (checkout)" trail-back rsync-one
row "apply --force" trail-force rsync-force
row "status" trail-status rsync-dry
