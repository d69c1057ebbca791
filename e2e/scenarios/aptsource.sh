#!/usr/bin/env bash
# aptsource: one commit adds a vendor repository (an apt_source block, a
# local flat repository under /srv) and a package only it has: git pull
# writes the .sources file, trail runs apt-get update and installs the
# package; git checkout of the commit before removes the source, apt's
# lists forget the repository, and the package is purged.
. "$E2E_LIB/scenario.sh"
. "$E2E_LIB/admin.sh"


# The vendor repository: one package, built and indexed on the machine.
run 'set -e
mkdir -p /tmp/vendor-src/DEBIAN /tmp/vendor-src/usr/share/trail-e2e-vendor /srv/vendor
printf "Package: trail-e2e-vendor\nVersion: 3.1\nArchitecture: all\nMaintainer: e2e <e2e@localhost>\nDescription: a package only the vendor repository has\n" >/tmp/vendor-src/DEBIAN/control
echo 3.1 >/tmp/vendor-src/usr/share/trail-e2e-vendor/version
dpkg-deb -b -Zgzip /tmp/vendor-src /srv/vendor/trail-e2e-vendor_3.1_all.deb >/dev/null
cd /srv/vendor
deb=trail-e2e-vendor_3.1_all.deb
{ dpkg-deb -f $deb; echo "Filename: ./$deb"; echo "Size: $(stat -c %s $deb)"; echo "SHA256: $(sha256sum $deb | cut -d" " -f1)"; echo; } >Packages' || exit 1
assert_ok "apt does not know the vendor package yet" '! apt-cache show trail-e2e-vendor >/dev/null 2>&1'

run 'mkdir -p /srv/admin && cd /srv/admin && git init -q -b main' || exit 1
run "for f in base base2 base3; do printf 'file \"/etc/trail-e2e-%s\" {\n  content = \"base\\\\n\"\n}\n' \$f; done >/srv/admin/base.hcl"
c1=$(git_commit /srv/admin 'base')
assert_ok "the host checkout is cloned" git clone -q /srv/admin /srv/config || exit 1
assert_ok "trail init applies the base commit" 'cd /srv/config && trail init' || exit 1

run "cat >/srv/admin/vendor.hcl <<'HCL'
package \"trail-e2e-vendor\" {}

apt_source \"vendor\" {
  uris    = [\"file:/srv/vendor\"]
  suites  = [\"./\"]
  trusted = true
}
HCL"
c2=$(git_commit /srv/admin 'vendor')
assert_contains "the plan accepts the package, to be resolved after the update" \
	"$(run 'cd /srv/config && git fetch -q && trail plan origin/main 2>&1')" "resolved after apt-get update"
assert_ok "git pull deploys the source and the package" 'cd /srv/config && git pull -q' || exit 1
assert_contains "the source is a deb822 file" "$(run cat /etc/apt/sources.list.d/vendor.sources)" "URIs: file:/srv/vendor"
assert_eq "the vendor package is installed" "install ok installed 3.1" "$(pkg_state trail-e2e-vendor)"
assert_ok "apt's lists have the vendor repository" 'ls /var/lib/apt/lists | grep -q _srv_vendor_'
assert_ok "the journal says apt-get update ran" 'journalctl -t trail -o cat | grep -q "apt-get update"'
assert_contains "status reports the commit" "$(run 'cd /srv/config && trail status --json')" "$c2"

assert_ok "git checkout of the base commit rolls back" "cd /srv/config && git checkout -q $c1" || exit 1
assert_eq "the vendor package is purged" absent "$(pkg_state trail-e2e-vendor)"
assert_fails "the source is gone" test -e /etc/apt/sources.list.d/vendor.sources
assert_fails "and apt's lists forgot the repository" 'ls /var/lib/apt/lists | grep -q _srv_vendor_'
assert_ok "apt still works" apt-get -q update
