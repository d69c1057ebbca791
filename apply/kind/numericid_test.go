package kind

import (
	"strconv"
	"testing"
)

// NumericID takes what strconv.ParseUint(name, 10, 32) takes, and a name
// that is not a number costs no allocation.
func TestNumericID(t *testing.T) {
	for _, name := range []string{"0", "1000", "4294967295", "4294967296", "007", "", "root", "+1", "-1", "1_000", "0x10", "12a", " 1", "١"} {
		want, err := strconv.ParseUint(name, 10, 32)
		got, ok := NumericID(name)
		if ok != (err == nil) || ok && got != uint32(want) {
			t.Errorf("NumericID(%q) = %d, %v; ParseUint gives %d, %v", name, got, ok, want, err)
		}
	}
	if n := testing.AllocsPerRun(100, func() { NumericID("www-data") }); n != 0 {
		t.Errorf("NumericID of a name allocates %v times, want 0", n)
	}
}
