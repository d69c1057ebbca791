#!/usr/bin/env bash
# home: trail-pull.service, started by real systemd, reads root's
# ~/.gitconfig: the checkout's remote is a URL only a url.insteadOf rewrite
# in /root/.gitconfig makes reachable. systemd gives a root service no HOME;
# the unit's (and trail init's drop-in) does, so git fetches through the
# rewrite and trail applies the new commit. Without HOME git cannot reach
# the remote at all.
. "$E2E_LIB/scenario.sh"

url=https://git.trail-e2e.invalid/config.git

git_commit() { # DIR MESSAGE
	run "cd $1 && git add -A && git -c user.name=e2e -c user.email=e2e@localhost commit -q -m '$2' && git push -q origin main && git rev-parse HEAD"
}
config() { # CONTENT
	run "cat >/srv/admin/main.hcl <<'HCL'
file \"/etc/trail-e2e-home\" {
  content = \"$1\n\"
}
HCL"
}

run 'git init -q --bare -b main /srv/upstream.git && mkdir -p /srv/admin && cd /srv/admin && git init -q -b main && git remote add origin /srv/upstream.git' || exit 1
assert_ok "root's ~/.gitconfig rewrites the remote's URL" "git config --global url./srv/upstream.git.insteadOf $url" || exit 1
config one
c1=$(git_commit /srv/admin 'one')
assert_ok "the checkout is cloned through the rewrite" "git clone -q $url /srv/config" || exit 1
assert_eq "the checkout keeps the URL as given" "$url" "$(run git -C /srv/config config remote.origin.url)"
assert_fails "without HOME git cannot reach the remote" "env -u HOME git -C /srv/config ls-remote -q origin"

assert_ok "trail init --systemd timer applies and installs the timer" 'cd /srv/config && trail init --systemd timer' || exit 1
assert_eq "the first commit is applied" one "$(run cat /etc/trail-e2e-home)"
assert_ok "the journal has its apply" "journalctl -t trail TRAIL_COMMIT=$c1 TRAIL_EVENT=apply -o cat | grep -q 'apply of ${c1:0:12} ok'"
assert_contains "the drop-in gives the service root's HOME" \
	"$(run cat /etc/systemd/system/trail-pull.service.d/checkout.conf)" "Environment=HOME=/root"
assert_contains "systemd runs it with that HOME" \
	"$(run systemctl show -p Environment --value trail-pull.service)" "HOME=/root"

config two
c2=$(git_commit /srv/admin 'two')
assert_ok "systemd runs trail-pull.service to the end" 'systemctl start trail-pull.service'
assert_eq "it fetched through the rewrite and applied the new commit" two "$(run cat /etc/trail-e2e-home)"
assert_eq "HEAD is the new commit" "$c2" "$(run git -C /srv/config rev-parse HEAD)"
assert_ok "the journal has the apply of the new commit" \
	"journalctl -t trail TRAIL_COMMIT=$c2 TRAIL_EVENT=apply -o cat | grep -q 'apply of ${c2:0:12} ok'"
assert_fails "and no failed fetch" "journalctl -u trail-pull.service -o cat | grep -q 'fetch.*failed'"
assert_ok "trail status is OK" 'cd /srv/config && trail status'
