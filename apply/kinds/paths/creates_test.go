package paths

import "testing"

// A create says what noun says, and for what steps make costs nothing.
func TestCreates(t *testing.T) {
	for _, st := range []string{StFile, StDir, StLink, StTree, "other"} {
		if got, want := creates(st), "create "+noun(st); got != want {
			t.Errorf("creates(%s) = %q, want %q", st, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { creates(StFile); creates(StDir); creates(StLink) }); n != 0 {
		t.Errorf("creates allocates %v times, want 0", n)
	}
}
