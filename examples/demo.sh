#!/usr/bin/env bash
# The demo: trail driving a host from git, on the example config in
# examples/web. Everything happens in a throwaway directory: a bare
# "origin" repo, an admin's clone, the host's checkout, a sandbox root
# standing in for the host's / and a private state directory. Nothing
# outside it is touched.
set -eu
command -v git >/dev/null || { echo "demo: git is needed: apt-get install git" >&2; exit 1; }
trail=$(realpath "${TRAIL:-bin/trail}")
example=$(realpath examples/web)
D=$(mktemp -d "${TMPDIR:-/tmp}/trail-demo.XXXXXX")
trap 'rm -rf "$D"' EXIT
export PATH="$(dirname "$trail"):$PATH"
# git must not read the user's config, and must work without one.
export GIT_CONFIG_GLOBAL="$D/gitconfig" GIT_CONFIG_NOSYSTEM=1
git config --global user.name "Demo Admin"
git config --global user.email admin@example.org
git config --global init.defaultBranch main
git config --global advice.detachedHead false
git config --global pull.ff only

bold=$'\033[1m' dim=$'\033[2m' off=$'\033[0m'
[ -t 1 ] || bold='' dim='' off=''
say() { printf '\n%s== %s%s\n' "$bold" "$*" "$off"; }
# run shows a command as typed in the current directory, then runs it.
run() { printf '%s%s$ %s%s\n' "$dim" "demo${PWD#"$D"}" "$*" "$off"; "$@"; }
# show runs a command that may exit non-zero (status, plan) and says so.
show() { local rc=0; run "$@" || rc=$?; printf '%s(exit %d)%s\n' "$dim" "$rc" "$off"; }

# The sandbox root: a few files of a Debian base, among them a motd that
# was there before trail.
mkdir -p "$D/root/etc" "$D/root/srv"
printf 'root:x:0:0:root:/root:/bin/bash\n' > "$D/root/etc/passwd"
printf 'root:x:0:\n' > "$D/root/etc/group"
printf 'root:*:19000:0:99999:7:::\n' > "$D/root/etc/shadow"
printf 'root:*::\n' > "$D/root/etc/gshadow"
echo web1 > "$D/root/etc/hostname"
printf 'Debian GNU/Linux 12, as installed\n' > "$D/root/etc/motd"

cd "$D"
git init -q --bare origin.git
git clone -q origin.git admin 2>/dev/null
cp -r "$example"/. admin/
git -C admin add -A
git -C admin commit -qm "web1: site, config, docroot link"
git -C admin push -q origin main

say "A host clones the config repo and runs trail init (sandbox root: root/)"
run git clone -q origin.git host
cd host
if [ "$(id -u)" = 0 ]; then
	# As root, the example also creates the site's user and group.
	git config trail.var.accounts true
fi
run trail init --root ../root --state ../state --metrics ../trail.prom --journal off
run ls -l ../root/etc/web ../root/srv/www

say "The admin changes the site and takes over /etc/motd; the host is behind"
cd ../admin
echo '<p>Now with news.</p>' >> www/index.html
cat >> main.hcl <<'HCL'

file "/etc/motd" {
  content = "${host.hostname}: managed by trail, see /etc/web\n"
}
HCL
git commit -qam "news on the front page; motd"
git push -q origin main
cd ../host
run git fetch -q
show trail status
show trail plan origin/main

say "git pull deploys it: the post-merge hook applies the new commit"
run git pull -q
run cat ../root/etc/motd

say "Someone edits a managed file by hand: status reports the drift"
run sh -c 'echo "listen 80" >> ../root/etc/web/site.conf'
show trail status

say "git checkout of the older commit rolls back: /etc/motd is as it was"
run git checkout -q HEAD~1
run cat ../root/etc/motd
show trail status

say "A broken commit changes nothing and makes status critical"
cd ../admin
sed -i 's/^  to = "\/srv\/www"$/  to = /' main.hcl
git commit -qam "a typo"
git push -q origin main
cd ../host
run git checkout -q main
run git pull -q
show trail status

say "The fix is pulled; trail log tells the story"
cd ../admin
git revert --no-edit HEAD >/dev/null
git push -q origin main
cd ../host
run git pull -q
run trail log
run grep -v '^#' ../trail.prom
