package commands

import (
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
