package apply

import (
	"strings"
	"testing"

	sbx "trail/apply/internal/sandbox"
)

// A package whose archives apt cannot name before its install (here a
// dependency no source has; an offline mirror is the same) leaves the
// files it would overwrite unsaved: the apply goes on to the install,
// and the step's event says that its undo may not restore them.
func TestShippingUnlistedIsReported(t *testing.T) {
	t.Parallel()
	sb := newDebSandbox(t)
	var ev events
	sb.e.opts.OnEvent = ev.add
	copyRepo(t, sb.fs(), sbx.Deb{Name: "trail-a", Version: "1.0", Depends: "trail-nowhere",
		Files: map[string]string{"/etc/trail-a.conf": "shipped\n"}})
	_, err := sb.applyErr(anchors+"FILE /etc/trail-a.conf {trail's\n}\nPKG trail-a\n", "c1")
	if err == nil {
		t.Fatal("the install of a package with a missing dependency succeeded")
	}
	if !strings.Contains(err.Error(), "install trail-a") {
		t.Errorf("error %q is not apt's install failure", err)
	}
	failed := ev.of(EventStepFailed)
	if len(failed) != 1 || !strings.HasPrefix(failed[0].Step, "PKG trail-a") {
		t.Fatalf("step-failed events = %+v, want one for PKG trail-a", failed)
	}
	want := "could not list what trail-a's archives ship (apt-get "
	if d := failed[0].Detail; !strings.Contains(d, want) || !strings.Contains(d, "a failed install may not restore them") {
		t.Errorf("step-failed detail = %q, want it to say %q... and what it means", d, want)
	}
}

// The same when the install works: apt's lists cannot resolve trail-a
// alone (its dependency is only a .deb in the root's archive directory),
// the install of both in one call can. The apply ends, and the event of
// the batch's first package step made, once, says what was not saved.
func TestShippingUnlistedInstallReported(t *testing.T) {
	t.Parallel()
	sb := newDebSandbox(t)
	var ev events
	sb.e.opts.OnEvent = ev.add
	copyRepo(t, sb.fs(), sbx.Deb{Name: "trail-a", Version: "1.0", Depends: "trail-b",
		Files: map[string]string{"/etc/trail-a.conf": "shipped\n"}})
	sb.fs().Archive("trail-b", "1.0", "")
	sb.apply(anchors+"FILE /etc/trail-a.conf {trail's\n}\nPKG trail-b\nPKG trail-a\n", "c1")
	want := "could not list what trail-a's archives ship (apt-get "
	var told []string
	for _, e := range ev.of(EventStep) {
		if strings.Contains(e.Detail, want) && strings.Contains(e.Detail, "files it overwrites were not saved first") {
			told = append(told, e.Step)
		}
	}
	if len(told) != 1 || !strings.HasPrefix(told[0], "PKG trail-b") {
		t.Errorf("steps whose event says %q...: %q, want PKG trail-b's alone", want, told)
	}
	if got := sb.fs().Read("/etc/trail-a.conf"); got != "trail's\n" {
		t.Errorf("/etc/trail-a.conf = %q after the apply, want trail's content", got)
	}
}
