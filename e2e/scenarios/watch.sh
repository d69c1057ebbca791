#!/usr/bin/env bash
# watch: trail init --systemd watch installs and starts trail-watch.service
# under real systemd; it reaches READY (active) with a status line;
# journalctl finds the apply's records by commit; a hand edit shows as a
# drift record in the journal and in the metrics file within seconds, and a
# heal-policy file is put back.
. "$E2E_LIB/scenario.sh"
. "$E2E_LIB/admin.sh"

prom=/var/lib/prometheus/node-exporter/trail.prom

run 'mkdir -p /srv/admin /var/lib/prometheus/node-exporter && cd /srv/admin && git init -q -b main' || exit 1
run "cat >/srv/admin/main.hcl <<'HCL'
file \"/etc/trail-e2e-reported\" {
  content = \"as trail wrote it\n\"
}

file \"/etc/trail-e2e-healed\" {
  content = \"as trail wrote it\n\"
  drift   = \"heal\"
}
HCL"
c1=$(git_commit /srv/admin 'watched files')
assert_ok "the host checkout is cloned" git clone -q /srv/admin /srv/config || exit 1
assert_ok "trail init --systemd watch applies and installs the watcher" 'cd /srv/config && trail init --systemd watch' || exit 1
assert_eq "trail-watch.service is enabled" enabled "$(run systemctl is-enabled trail-watch.service)"
assert_eventually "trail-watch.service is active (it sent READY=1)" 'systemctl is-active -q trail-watch.service'
assert_eventually "its status line names the commit and no drift" \
	"systemctl show -p StatusText --value trail-watch.service | grep -q 'applied ${c1:0:7} (main) generation 1, 0 drifted'"
assert_contains "the drop-in points it at the checkout" \
	"$(run cat /etc/systemd/system/trail-watch.service.d/checkout.conf)" "WorkingDirectory=/srv/config"
assert_eq "init wrote no copy over the packaged unit" absent \
	"$(run 'test -e /etc/systemd/system/trail-watch.service && echo copy || echo absent')"
assert_contains "systemd runs the unit the package ships" \
	"$(run systemctl show -p FragmentPath --value trail-watch.service)" "lib/systemd/system/trail-watch.service"

assert_ok "journalctl -t trail TRAIL_COMMIT= finds the apply" \
	"journalctl -t trail TRAIL_COMMIT=$c1 TRAIL_EVENT=apply -o cat | grep -q 'apply of ${c1:0:12} ok: 2 added'"
assert_ok "each step has its source" \
	"journalctl -t trail TRAIL_COMMIT=$c1 TRAIL_EVENT=step TRAIL_SOURCE=main.hcl:1-3 -o cat | grep -q 'FILE /etc/trail-e2e-reported'"
assert_ok "the metrics file names the applied commit" "grep -q 'trail_applied_info{branch=\"main\",commit=\"$c1\",generation=\"1\"} 1' $prom"

run 'echo "changed by hand" >> /etc/trail-e2e-reported' || exit 1
assert_eventually "the hand edit is in the journal as drift" \
	"journalctl -t trail TRAIL_EVENT=drift TRAIL_STEP='FILE /etc/trail-e2e-reported' -o cat | grep -q 'drifted: content'"
assert_eventually "and in the metrics file" "grep -qx 'trail_drifted_targets 1' $prom"
assert_eventually "and in the status line" \
	"systemctl show -p StatusText --value trail-watch.service | grep -q '1 drifted'"
assert_eq "trail status warns" 1 "$(run 'cd /srv/config && trail status >/dev/null; echo $?')"

run 'echo "changed by hand" >> /etc/trail-e2e-healed' || exit 1
assert_eventually "the heal-policy file is put back" "test \"\$(cat /etc/trail-e2e-healed)\" = 'as trail wrote it'"
assert_eventually "the heal is in the journal" \
	"journalctl -t trail TRAIL_EVENT=heal -o cat | grep -q 'FILE /etc/trail-e2e-healed'"

assert_ok "the watcher stops cleanly" 'systemctl stop trail-watch.service' || exit 1
assert_eq "and is inactive" inactive "$(run systemctl is-active trail-watch.service)"
assert_ok "it said it stopped" "journalctl -t trail TRAIL_EVENT=watch -o cat | grep -q 'stopped watching'"
