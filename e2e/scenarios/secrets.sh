#!/usr/bin/env bash
# secrets: a secret file encrypted with the real age to the host's key
# (age-keygen, /etc/trail/age.key) is deployed by git pull, changed, and
# refused on a host that lost its key; journald (every field of every
# record), the metrics file and the state directory hold neither the
# secret nor its hash, and every blob of the store is mode 0600.
#
# e2e-debs: age
. "$E2E_LIB/scenario.sh"
. "$E2E_LIB/admin.sh"

prom=/var/lib/prometheus/node-exporter/trail.prom
# encrypt SECRET: the admin encrypts SECRET to the host's public key.
encrypt() { run "mkdir -p /srv/admin/secrets && printf '%s\n' '$1' | age -a -r $pub >/srv/admin/secrets/db.pass.age"; }
# no_trace SECRET: neither SECRET nor its sha256 is in the journal, the
# metrics, trail's outputs or (the secret itself) the state directory.
no_trace() {
	local h
	h=$(run "printf '%s\n' '$1' | sha256sum | cut -c1-12")
	assert_fails "journald has no trace of $1" "journalctl -o verbose --all | grep -e '$1' -e '$h'"
	assert_fails "the metrics have none" "grep -e '$1' -e '$h' $prom"
	assert_fails "trail's output has none" "grep -e '$1' -e '$h' /tmp/out.*"
	assert_fails "the state has not the secret" "grep -r -e '$1' /var/lib/trail"
}

assert_ok "age is installed" 'apt-get update -q >/dev/null && apt-get install -q -y age >/dev/null' || exit 1
assert_ok "age-keygen makes the host's key" 'mkdir -p /etc/trail && age-keygen -o /etc/trail/age.key 2>/dev/null && chmod 600 /etc/trail/age.key' || exit 1
pub=$(run age-keygen -y /etc/trail/age.key)
run 'mkdir -p /srv/admin /var/lib/prometheus/node-exporter && cd /srv/admin && git init -q -b main' || exit 1
run "cat >/srv/admin/main.hcl <<'HCL'
file \"/etc/trail-e2e-db.pass\" {
  secret = \"secrets/db.pass.age\"
}
HCL"
encrypt S3cr3t-e2e-one
git_commit /srv/admin 'a secret' >/dev/null
assert_ok "the host checkout is cloned" git clone -q /srv/admin /srv/config || exit 1
assert_ok "trail init decrypts and writes the secret" 'cd /srv/config && trail init >/tmp/out.init 2>&1' || exit 1
assert_eq "the file holds the secret" S3cr3t-e2e-one "$(run cat /etc/trail-e2e-db.pass)"
assert_eq "mode 0600" 600 "$(run stat -c %a /etc/trail-e2e-db.pass)"

encrypt S3cr3t-e2e-two
c2=$(git_commit /srv/admin 'a new secret')
run 'cd /srv/config && trail plan origin/main >/tmp/out.plan 2>&1; git fetch -q; trail plan origin/main >>/tmp/out.plan 2>&1'
assert_ok "the plan says the secret changed" 'grep -q "^    secret changed$" /tmp/out.plan'
assert_ok "git pull deploys it" 'cd /srv/config && git pull -q >/tmp/out.pull 2>&1'
assert_eq "the file holds the new secret" S3cr3t-e2e-two "$(run cat /etc/trail-e2e-db.pass)"
assert_ok "the journal has the apply" "journalctl -t trail TRAIL_COMMIT=$c2 TRAIL_EVENT=step -o cat | grep -q 'modify FILE /etc/trail-e2e-db.pass .*secret changed'"
assert_ok "trail show names it, and shows it not" 'cd /srv/config && trail show /etc/trail-e2e-db.pass >/tmp/out.show && grep -q "is a secret" /tmp/out.show'

run 'mv /etc/trail/age.key /root/age.key.away'
encrypt S3cr3t-e2e-three
git_commit /srv/admin 'a secret this host cannot read' >/dev/null
run 'cd /srv/config && git pull -q >/tmp/out.nokey 2>&1'
assert_ok "without its key the apply is refused at the block" "grep -q 'main.hcl:1: FILE /etc/trail-e2e-db.pass: secret sha256:[0-9a-f]* cannot be decrypted: age key /etc/trail/age.key: missing' /tmp/out.nokey"
assert_eq "and the file is unchanged" S3cr3t-e2e-two "$(run cat /etc/trail-e2e-db.pass)"
assert_eq "trail status is CRITICAL" 2 "$(run 'cd /srv/config && trail status >/tmp/out.status; echo $?')"

assert_ok "journald and the metrics file are there to look in" "journalctl -t trail TRAIL_EVENT=apply -o verbose | grep -q TRAIL_COMMIT= && test -s $prom"
for s in S3cr3t-e2e-one S3cr3t-e2e-two S3cr3t-e2e-three; do no_trace "$s"; done
# The store must be there and hold blobs, or "none is not 0600" proves nothing.
assert_ok "the store holds blobs" 'find /var/lib/trail/store/sha256 -type f | grep -q .'
assert_ok "every blob of the store is mode 0600" 'test -d /var/lib/trail/store && ! find /var/lib/trail/store -type f ! -perm 0600 | grep .'
