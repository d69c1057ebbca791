package apply

import (
	"strings"
	"testing"

	sbx "trail/apply/internal/sandbox"
)

// A maintainer script that refuses prints its reason on stdout, as
// sudo's prerm does, and dpkg and apt-get only a status on stderr: the
// apply's error, the step-failed event and the generation (what `trail
// status` shows) all carry the reason.
func TestToolFailureReasonReachesEvent(t *testing.T) {
	t.Parallel()
	sb := newDebSandbox(t)
	sb.fs().WithShell()
	var ev events
	sb.e.opts.OnEvent = ev.add
	copyRepo(t, sb.fs(), sbx.Deb{Name: "trail-a", Version: "1.0",
		Scripts: map[string]string{"preinst": "#!/bin/sh\necho 'trail-a refuses: no root password has been set'\nexit 1\n"}})
	g, err := sb.applyErr(anchors+"PKG trail-a\n", "c1")
	if err == nil {
		t.Fatal("the install of a package whose preinst exits 1 succeeded")
	}
	const reason = "trail-a refuses: no root password has been set"
	t.Logf("error: %v", err)
	if !strings.Contains(err.Error(), reason) {
		t.Errorf("error %q does not carry the script's reason", err)
	}
	failed := ev.of(EventStepFailed)
	if len(failed) != 1 || failed[0].Err == nil || !strings.Contains(failed[0].Err.Error(), reason) {
		t.Fatalf("step-failed events = %+v, want one whose error carries %q", failed, reason)
	}
	if g == nil || !strings.Contains(g.Error, reason) {
		t.Errorf("generation = %+v, want its error to carry %q", g, reason)
	}
}
