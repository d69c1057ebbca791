package state

import "testing"

// NamedTemps has the store write its temporary files and packs as on a
// file system without O_TMPFILE, named and locked, until t ends.
func NamedTemps(t *testing.T) {
	noTmpfile = true
	t.Cleanup(func() { noTmpfile = false })
}
