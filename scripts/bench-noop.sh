#!/usr/bin/env bash
# The no-op path: a hook (or `trail apply`) when HEAD is the applied commit
# must cost about as much as reading a few small files. This times whole
# processes on a config of N files (default 10000), against baselines run
# in the same script: `true` (process start) and `git rev-parse HEAD` (the
# cheapest git question). Prints mean milliseconds per run and ratios.
set -eu
trail=$(realpath "${TRAIL:-bin/trail}")
files=${FILES:-10000}
runs=${RUNS:-200}
D=$(mktemp -d "${TMPDIR:-/tmp}/trail-bench.XXXXXX")
trap 'rm -rf "$D"' EXIT
export GIT_CONFIG_GLOBAL="$D/gitconfig" GIT_CONFIG_NOSYSTEM=1
git config --global user.name bench
git config --global user.email bench@example.org
git config --global init.defaultBranch main

mkdir -p "$D/root/etc" "$D/root/srv" "$D/repo/site"
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$D/root/etc/passwd"
printf 'root:x:0:\n' > "$D/root/etc/group"
for ((i = 0; i < files; i++)); do
	d="$D/repo/site/d$((i / 100))"
	[ -d "$d" ] || mkdir "$d"
	echo "file $i" > "$d/f$i"
done
printf 'tree "site" {\n  path = "/srv/site"\n  source = "site"\n}\n' > "$D/repo/main.hcl"
git -C "$D/repo" init -q
git -C "$D/repo" add -A
git -C "$D/repo" commit -qm "$files files"
cd "$D/repo"
"$trail" init --root "$D/root" --state "$D/state" --metrics off --journal off > /dev/null

# mean_ms CMD...: mean wall time of one run over $runs runs, in ms.
mean_ms() {
	local start end
	start=$(date +%s%N)
	for ((i = 0; i < runs; i++)); do "$@" > /dev/null; done
	end=$(date +%s%N)
	echo $(( (end - start) / runs / 1000 ))
}
t_true=$(mean_ms /bin/true)
t_git=$(mean_ms git rev-parse HEAD)
t_hook=$(mean_ms "$trail" hook post-merge 0)
t_apply=$(mean_ms "$trail" apply)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
printf 'no-op path, %d managed files, mean of %d runs (microseconds):\n' "$files" "$runs"
printf '  %-28s %8d\n' "/bin/true (fork+exec)" "$t_true" "git rev-parse HEAD" "$t_git" "trail hook post-merge" "$t_hook" "trail apply" "$t_apply"
printf '  trail hook / git rev-parse: %sx; trail apply / git rev-parse: %sx\n' "$(ratio "$t_hook" "$t_git")" "$(ratio "$t_apply" "$t_git")"
