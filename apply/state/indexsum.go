package state

import "trail/internal/fsx"

// SumIs reports whether Lookup of p at st would return the content key
// "sha256:" + hexSum, without making the key: a look at every managed file
// compares the index's hash with the record's as they are.
func (ix *Index) SumIs(p string, st fsx.Stat, hexSum []byte) bool {
	var sum [32]byte
	if !lowerHex(sum[:], hexSum) {
		return false
	}
	e := ix.find(p)
	if e == nil || e.ino != st.Ino || e.size != st.Size || e.mtime != st.Mtime || e.ctime != st.Ctime {
		return false
	}
	if !e.fresh && e.ctime >= ix.AsOf-int64(RacyWindow) {
		return false
	}
	return e.sum == sum
}
