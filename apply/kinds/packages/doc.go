// Package packages is the PKG step kind: a Debian package installed at a
// version, or purged, with apt-get, dpkg-query and apt-mark (tool.go);
// under a root other than "/" they are pointed at the root, and apt reads
// the root's configuration instead of this machine's (Tools.Apt). Consecutive
// installs are one apt-get call (Grouper), captured together
// (CaptureGroup): one apt-cache policy for all their names (policy.go)
// and one apt-get -s whose new packages are split back to each step, a
// new dependency two steps share going to both, as each one's own
// simulation would say (predict.go); every removal of an apply is
// one apt-get decision over all of them (RestoreGrouper and
// ChangePlanner, remove.go): a package trail installed is purged with the
// dependencies, system accounts and enablement links its install brought
// (brought.go, deps.go), and those an earlier install brought that it
// needs (shareddeps.go), as far as nothing that stays needs them; what a
// dependency's scripts made goes with that dependency (depmarks.go); one
// that was there before trail keeps its version, mark and conffiles; one
// an install brought and a later step declares goes back to its state
// before that install once no install that brought it stays
// (broughtBefore, planMove), and one an install upgraded as a
// dependency goes back to its old version (upgraded.go), declared by a
// step or not, once no install that upgraded it stays
// (upgradeddeclared.go); a block that keeps a package upgraded as the
// install that upgraded it goes takes into its record's origin what
// that install's record said the new version made (handover.go,
// kind.OriginTaker); an old version that cannot be had, or would
// remove a package that stays, is not put back, and the plan says so. A
// step's owns= paths are predicted as directories once it installs.
// Recovery finishes a dpkg run a crash cut off (dpkgrecover.go). A
// change of an apt source or key earlier in an apply makes the PKG steps
// after it run apt-get update first, once, and a plan note a package it
// cannot resolve yet instead of refusing it (aptsources.go).
package packages
