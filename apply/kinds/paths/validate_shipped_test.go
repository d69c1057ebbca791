package paths_test

import (
	"fmt"
	"testing"
)

// A checker that a FILE of the same batch ships, in a directory the apply
// makes, is there whole when the deferred validate runs it: that FILE is
// written at its name in the background (fsx.Root.Background), and the
// validate's program must not start before it is written.
func TestValidateDeferredRunsShippedChecker(t *testing.T) {
	sb := partsSandbox(t)
	tool := sb.Host("/opt/tools/check")
	steps := fmt.Sprintf("DIR /opt\nDIR /opt/tools\nFILE /opt/tools/check {#!/bin/sh\ngrep -q ok \"$1\"} mode=0755\n"+
		"FILE /opt/tools/app.conf {ok} validate=\"%s %%s\"", tool)
	sb.Apply(steps, "c1")
	sb.WantFile("/opt/tools/app.conf", "ok", 0o644, 0, 0)
}
