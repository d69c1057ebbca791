#!/usr/bin/env bash
# home: trail-pull.service, started by real systemd, reads root's
# ~/.gitconfig: the checkout's remote is a URL only a url.insteadOf rewrite
# in /root/.gitconfig makes reachable. systemd gives a root service no HOME;
# the unit's (and trail init's drop-in) does, so git fetches through the
# rewrite and trail applies the new commit. Without HOME git cannot reach
# the remote at all, and a drop-in that unsets the unit's HOME makes the
# pull through the unit fail (status warns) until it is removed.
. "$E2E_LIB/scenario.sh"
. "$E2E_LIB/admin.sh"

url=https://git.trail-e2e.invalid/config.git

# publish DIR MESSAGE: git_commit, then push to the upstream the host pulls from.
publish() {
	git_commit "$1" "$2" && run "cd $1 && git push -q origin main"
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
c1=$(publish /srv/admin 'one')
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
c2=$(publish /srv/admin 'two')
assert_ok "systemd runs trail-pull.service to the end" 'systemctl start trail-pull.service'
assert_eq "it fetched through the rewrite and applied the new commit" two "$(run cat /etc/trail-e2e-home)"
assert_eq "HEAD is the new commit" "$c2" "$(run git -C /srv/config rev-parse HEAD)"
assert_ok "the journal has the apply of the new commit" \
	"journalctl -t trail TRAIL_COMMIT=$c2 TRAIL_EVENT=apply -o cat | grep -q 'apply of ${c2:0:12} ok'"
assert_fails "and no failed fetch" "journalctl -u trail-pull.service -o cat | grep -q 'fetch.*failed'"
assert_ok "trail status is OK" 'cd /srv/config && trail status'

# The unit's HOME is what makes it work: a drop-in that unsets it (applied
# last by systemd, after the checkout's Environment=) breaks the pull.
nohome=/etc/systemd/system/trail-pull.service.d/zz-nohome.conf
config three
c3=$(publish /srv/admin 'three')
assert_ok "a drop-in unsets the unit's HOME" "printf '[Service]\nUnsetEnvironment=HOME\n' >$nohome && systemctl daemon-reload" || exit 1
assert_contains "systemd unsets HOME for the service" \
	"$(run systemctl show -p UnsetEnvironment --value trail-pull.service)" "HOME"
assert_fails "without HOME trail-pull.service fails" 'systemctl start trail-pull.service'
assert_eq "the third commit is not applied" two "$(run cat /etc/trail-e2e-home)"
assert_eq "HEAD stays at the second" "$c2" "$(run git -C /srv/config rev-parse HEAD)"
assert_ok "the journal has the failed fetch" "journalctl -u trail-pull.service -o cat | grep -q 'git fetch failed'"
assert_eq "trail status is WARNING" 1 "$(run 'cd /srv/config && trail status >/tmp/out.status; echo $?')"
assert_ok "it names the failing fetch" "grep -q 'git fetch has failed since' /tmp/out.status"

assert_ok "the drop-in is removed" "rm $nohome && systemctl daemon-reload" || exit 1
assert_ok "with HOME back trail-pull.service runs to the end" 'systemctl start trail-pull.service'
assert_eq "it applied the third commit" three "$(run cat /etc/trail-e2e-home)"
assert_eq "HEAD is the third commit" "$c3" "$(run git -C /srv/config rev-parse HEAD)"
assert_ok "trail status is OK again" 'cd /srv/config && trail status'
