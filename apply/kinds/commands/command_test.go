package commands

import (
	"strconv"
	"strings"
	"testing"
)

func TestCommandOutputIsCut(t *testing.T) {
	var c capped
	for range 100 {
		c.Write([]byte(strings.Repeat("a", 1000)))
	}
	c.Write([]byte("THE END"))
	s := c.String()
	if len(s) > outputLimit+100 || !strings.HasSuffix(s, "THE END") || !strings.Contains(s, "bytes cut") {
		t.Fatalf("capped output: %d bytes, ends %q", len(s), s[len(s)-20:])
	}
}

// However it is written, the output keeps its first and last
// outputLimit/2 bytes and counts the bytes between.
func TestCommandOutputKeepsEnds(t *testing.T) {
	var all strings.Builder
	for i := range 5000 {
		all.WriteString(strings.Repeat(string(rune('a'+i%26)), i%7) + "\n")
	}
	in := all.String()
	for _, size := range []int{1, 3, 100, len(in)} {
		var c capped
		for rest := in; rest != ""; {
			k := min(size, len(rest))
			c.Write([]byte(rest[:k]))
			rest = rest[k:]
		}
		half := outputLimit / 2
		want := in[:half] + "\n… " + strconv.Itoa(len(in)-2*half) + " bytes cut …\n" + strings.TrimRight(in[len(in)-half:], "\n")
		if got := c.String(); got != want {
			t.Fatalf("writes of %d bytes: kept %d bytes, want %d", size, len(got), len(want))
		}
	}
}
