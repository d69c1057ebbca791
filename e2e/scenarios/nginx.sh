#!/usr/bin/env bash
# nginx: trail restores a real machine. The config of examples/nginx (the
# real Debian nginx and curl, a site in sites-available enabled by a link,
# a web root, the unit reloaded when the site changes, health checks) is
# deployed in one commit, changed (nginx reloads), broken twice (nginx
# refuses the site; nginx takes it but the HTTP check fails: each time the
# apply is undone and nginx serves the previous site), and finally rolled
# back by git checkout of the commit from before trail managed anything: the
# packages, /etc, the accounts and the enabled units then equal a snapshot
# taken before trail's first apply.
#
# e2e-debs: nginx curl
. "$E2E_LIB/scenario.sh"
. "$E2E_LIB/admin.sh"
. "$E2E_LIB/snapshot.sh"

example="$E2E_LIB/../../examples/nginx"
site=/etc/nginx/sites-available/example
url=http://localhost:8080/

release() { run "curl -fsS -o /dev/null -D - $url | sed -n 's/^X-Release: *\\([^[:space:]]*\\).*/\\1/ip'"; }
# serves_release VALUE: nginx sends it in X-Release. A reload is
# asynchronous (nginx -s reload signals the master, old workers finish
# their requests), hence assert_eventually.
serves_release() { echo "curl -fsS -o /dev/null -D - $url | tr -d '\\r' | grep -qix 'X-Release: $1'"; }
# block_source KIND NAME: the step source of a block of the example,
# nginx.hcl:FIRST-LAST, read from the file as trail reads it.
block_source() {
	awk -v head="$1 \"$2\" {" '$0 == head { f = NR } f && /^}/ { print "nginx.hcl:" f "-" NR; exit }' "$example/nginx.hcl"
}
# source_of MESSAGE_PART: TRAIL_SOURCE of trail's journal records whose
# message holds MESSAGE_PART, one per line.
source_of() {
	run "journalctl -t trail -o export | awk -v want='$1' '
		/^MESSAGE=/ { m = substr(\$0, 9) }
		/^TRAIL_SOURCE=/ { s = substr(\$0, 14) }
		/^\$/ { if (index(m, want)) print s; m = s = \"\" }'"
}
# eventually_eq NAME WANT FUNC [ARG...]: assert_eq once FUNC prints WANT,
# or with what it prints after E2E_EVENTUALLY seconds: journald stores
# records a moment after trail sends them.
eventually_eq() {
	local name=$1 want=$2 got deadline=$((SECONDS + ${E2E_EVENTUALLY:-10}))
	shift 2
	while got=$("$@") && [ "$got" != "$want" ] && [ "$SECONDS" -lt "$deadline" ]; do
		sleep 0.2
	done
	assert_eq "$name" "$want" "$got"
}

# What the rollback to before trail must give back exactly.
sections=(packages etc accounts units)

assert_ok "apt reads the local repo" apt-get update || exit 1
assert_eq "nginx is not installed before trail" absent "$(pkg_status nginx)"

run 'mkdir -p /srv/admin && cd /srv/admin && git init -q -b main' || exit 1
run "printf '# Nothing is managed yet.\n' >/srv/admin/main.hcl"
c0=$(git_commit /srv/admin 'trail manages nothing yet')
assert_ok "the host checkout is cloned" git clone -q /srv/admin /srv/config || exit 1
snapshot_before "${sections[@]}" || exit 1
assert_ok "trail init applies the commit that manages nothing" 'cd /srv/config && trail init' || exit 1

# 1. nginx, its site and its web root in one commit.
copy_in "$example" /srv/admin || exit 1
c1=$(git_commit /srv/admin 'nginx serves the example site')
assert_ok "git pull deploys nginx with its site" 'cd /srv/config && git pull -q' || exit 1
# Without this apply nothing below would test anything.
assert_eq "trail applied it" "$c1" "$(applied)" || exit 1
assert_contains "nginx is installed, the Debian package" "$(run "dpkg-query -W -f '\${Status} \${Version}' nginx")" "install ok installed 1.22"
assert_ok "nginx is marked manually installed" 'apt-mark showmanual | grep -qx nginx'
assert_eq "nginx-common came with it" "install ok installed" "$(pkg_status nginx-common)"
assert_ok "and apt marked it automatic" 'apt-mark showauto | grep -qx nginx-common'
assert_eq "the site is enabled by its link" "$site" "$(run readlink /etc/nginx/sites-enabled/example)"
assert_eq "nginx.service is enabled" enabled "$(run systemctl is-enabled nginx.service)"
assert_eq "nginx.service is running" active "$(run systemctl is-active nginx.service)"
assert_ok "the page is served" "curl -fsS $url | grep -q 'served by trail'"
assert_eq "with the first release header" one "$(release)"
assert_ok "trail status is OK" 'cd /srv/config && trail status'
first_source_of() { source_of "$1" | sed -n 1p; }
eventually_eq "the journal names the nginx package step with its source" \
	"$(block_source package nginx)" first_source_of 'PKG nginx'

assert_ok "applying again does nothing" 'cd /srv/config && trail apply | grep -q "nothing to do"'
pid1=$(main_pid nginx.service)

# 2. A changed site reloads nginx.
run "sed -i 's/release = \"one\"/release = \"two\"/' /srv/admin/nginx.hcl"
c2=$(git_commit /srv/admin 'the second release')
assert_ok "git pull deploys the changed site" 'cd /srv/config && git pull -q' || exit 1
assert_eq "trail applied it" "$c2" "$(applied)" || exit 1
assert_eventually "nginx serves the new release header" "$(serves_release two)"
assert_eq "nginx was reloaded, not restarted (same main PID)" "$pid1" "$(main_pid nginx.service)"
reload="(changed: $site)"
eventually_eq "the journal shows the reload once, for the site, with the unit's source" \
	"$(block_source unit nginx.service)" source_of "$reload"
site2=$(run sha256sum "$site")

# 3. A broken site: nginx refuses it, and the apply is undone.
run "sed -i '/add_header/a\\    trail_e2e_bogus on;' /srv/admin/templates/site.conf.tpl"
c3=$(git_commit /srv/admin 'a directive nginx does not know')
assert_ok "git pull of the broken site does not fail git" 'cd /srv/config && git pull -q'
rc=0
out=$(run 'cd /srv/config && trail status') || rc=$?
assert_eq "trail status is CRITICAL (exit 2)" 2 "$rc"
assert_contains "status names the failed commit" "$out" "${c3:0:12}"
assert_contains "nginx refused the broken site" "$(run journalctl -u nginx.service -o cat)" 'unknown directive "trail_e2e_bogus"'
assert_contains "the journal says the apply was undone" "$(run journalctl -t trail -o cat)" "undid the changes of the apply"
assert_eq "the previous site is back" "$site2" "$(run sha256sum "$site")"
assert_eq "nginx.service is running" active "$(run systemctl is-active nginx.service)"
assert_ok "the page is served again" "curl -fsS $url | grep -q 'served by trail'"
assert_eq "with the previous release header" two "$(release)"
assert_eq "the applied commit is still the second" "$c2" "$(applied)"

# 4. A site nginx accepts but which serves nothing, with the unit now
# restarted rather than reloaded (a restart waits for nginx to be up with
# the new site; a reload only signals it, and a check right after may
# still see the old site): the HTTP check fails, and undoing the apply
# must restart nginx once more, with the previous site, for the page to
# come back.
run "sed -i -e '/trail_e2e_bogus/d' -e 's|^\\( *root \\\${root}\\);|\\1-missing;|' /srv/admin/templates/site.conf.tpl"
run "sed -i 's/^\\( *\\)reload_on /\\1restart_on /' /srv/admin/nginx.hcl"
c4=$(git_commit /srv/admin 'the site points at a missing web root')
assert_ok "git pull of the site without a page does not fail git" 'cd /srv/config && git pull -q'
rc=0
out=$(run 'cd /srv/config && trail status') || rc=$?
assert_eq "trail status is CRITICAL again (exit 2)" 2 "$rc"
assert_contains "status names that commit" "$out" "${c4:0:12}"
assert_contains "it was the HTTP check that failed" "$out" "CHECK http: check failed"
assert_eq "the previous site is back again" "$site2" "$(run sha256sum "$site")"
assert_eventually "nginx serves the page again, with the previous site" "curl -fsS $url | grep -q 'served by trail'"
assert_eq "and the applied commit is still the second" "$c2" "$(applied)"

# 5. Back to before trail.
assert_ok "git checkout of the commit before trail rolls back" "cd /srv/config && git checkout -q $c0"
assert_eq "status reports that commit applied" "$c0" "$(applied)"
assert_eq "nginx is gone" absent "$(pkg_status nginx)"
assert_eq "nginx-common is gone" absent "$(pkg_status nginx-common)"
assert_eq "curl is gone" absent "$(pkg_status curl)"
# curl is gone too: bash connects by itself.
assert_fails "nothing listens on the site's port" "bash -c 'exec 3<>/dev/tcp/127.0.0.1/8080'"
assert_fails "the web root is gone" test -e /var/www/example
snapshot_after "${sections[@]}"
