// Package e2e holds the booted-Debian rig behind `make e2e`: shell scripts
// that build a cached Debian root (rootfs.sh), a local apt repository
// (repo.sh), boot throwaway machines with systemd-nspawn (boot.sh) and run
// every scenario under scenarios/ in one of them (run.sh). See README.md.
//
// The Go code here is only tests of the rig's own parts that need no
// machine: the apt sources parser that finds the host's mirror, the local
// repository as apt sees it, the scenario checks and the loud skip. They
// run under `go test`, touch nothing outside their temp directories, and
// the booted scenarios themselves run only under `make e2e`.
package e2e
