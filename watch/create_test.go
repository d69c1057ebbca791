package watch

import (
	"os"
	"strings"
	"testing"

	"trail/apply"
)

// A file trail writes at its name (where nothing was, in a directory the
// same apply makes) is seen by the watcher while it is written, but never
// reported half written: a check finds the apply's lock held and waits
// for it. Here a hand removal of a managed directory is reported, then
// an apply --force by a hook puts it back with its large file; no report
// says the file is there with other content, and the watcher ends clean
// on the new generation.
func TestOwnApplyCreatingIsNoDrift(t *testing.T) {
	sb := newSandbox(t)
	big := strings.Repeat("a long line of the configuration; ", 400000)
	steps := "DIR /srv/app\nDIR /srv/app/sub\nFILE /srv/app/sub/conf {" + big + "}"
	sb.apply(t, "c1", steps)
	r := start(t, sb, Options{Rescan: -1})
	r.waitReady(t)
	r.waitDrift(t, "the first check is clean", none)
	if err := os.RemoveAll(sb.host("/srv/app/sub")); err != nil {
		t.Fatal(err)
	}
	r.waitDrift(t, "the directory is gone", hasAll("DIR /srv/app/sub", "FILE /srv/app/sub/conf"))
	sb.applyMeta(t, apply.Meta{Commit: "c1", Branch: "main", Force: true}, steps)
	r.waitStatus(t, "applied c1 (main) generation 2, 0 drifted")
	if got := sb.read(t, "/srv/app/sub/conf"); got != big {
		t.Fatalf("conf holds %d bytes, want %d", len(got), len(big))
	}
	for {
		select {
		case d := <-r.drifts:
			for _, x := range d {
				if x.ID.String() == "FILE /srv/app/sub/conf" && (len(x.Changed) != 1 || x.Changed[0] != "state") {
					t.Fatalf("the file the heal was writing was reported: changed %v, %v", x.Changed, x.Err)
				}
			}
			continue
		default:
		}
		break
	}
}
