package apply

import (
	"strings"
	"testing"

	sbx "trail/apply/internal/sandbox"
)

// markSandbox is a unit sandbox whose root has trail-a 1.0 installed as a
// dependency (marked automatically installed), and a unit applied as c1.
func markSandbox(t *testing.T) (*sandbox, *events) {
	sb, ev := newUnitSandbox(t)
	sb.fs().DebRoot()
	sb.fs().AptRepo(sbx.Deb{Name: "trail-a", Version: "1.0"})
	sb.fs().DpkgInstall(sbx.BuildDeb(t, t.TempDir(), sbx.Deb{Name: "trail-a", Version: "1.0"}))
	sb.fs().AptMark("auto", "trail-a")
	sb.apply(plainUnit, "c1")
	return sb, ev
}

const (
	plainUnit = "UNIT demo.service running=true\n"
	markUnit  = "UNIT demo.service running=true restart-on=package:trail-a\n"
)

// The undo of a change that only marks a package (manually installed,
// and back) restarts nothing, as the change itself does not: the
// package's files stayed as they were. Both for a failed apply and for an
// interrupted one undone at recovery.
func TestNoRestartAfterUndoOfMarkOnly(t *testing.T) {
	t.Run("failed apply", func(t *testing.T) {
		sb, ev := markSandbox(t)
		from := len(*ev)
		if _, err := sb.applyErr("PKG trail-a\n"+markUnit+`CHECK health run="exit 1" timeout=5s`, "c2"); err == nil {
			t.Fatal("the apply with a failing check succeeded")
		}
		if !sb.fs().IsAuto("trail-a") {
			t.Fatal("the undo did not mark trail-a automatically installed again")
		}
		checkRestarts(t, "the failed apply and its undo", restartsIn((*ev)[from:]))
	})
	t.Run("recovery", func(t *testing.T) {
		sb, ev := markSandbox(t)
		type crash struct{}
		sb.e.opts.crash = func(point string) {
			if strings.HasPrefix(point, "done") {
				panic(crash{})
			}
		}
		func() {
			defer func() {
				if r := recover(); r != (crash{}) {
					t.Fatalf("the apply did not stop at its crash point: %v", r)
				}
			}()
			sb.applyErr("PKG trail-a\n"+markUnit, "c2")
		}()
		if sb.fs().IsAuto("trail-a") {
			t.Fatal("trail-a was not marked manually installed at the crash")
		}
		from := len(*ev)
		sb.open()
		if !sb.fs().IsAuto("trail-a") {
			t.Fatal("recovery did not mark trail-a automatically installed again")
		}
		checkRestarts(t, "recovery", restartsIn((*ev)[from:]))
	})
	// The reverse that marks it automatic again, undone, marks it manual:
	// no restart either.
	t.Run("failed reverse", func(t *testing.T) {
		sb, ev := markSandbox(t)
		sb.apply("PKG trail-a\n"+markUnit, "c2")
		from := len(*ev)
		if _, err := sb.applyErr(plainUnit+`CHECK health run="exit 1" timeout=5s`, "c3"); err == nil {
			t.Fatal("the apply with a failing check succeeded")
		}
		if sb.fs().IsAuto("trail-a") {
			t.Fatal("the undo did not mark trail-a manually installed again")
		}
		checkRestarts(t, "the failed reverse and its undo", restartsIn((*ev)[from:]))
	})
}

// An undo that cannot put a package's old version back (apt no longer has
// it) leaves the upgrade in place, which it says: that is not a change of
// the mark alone, and a unit that reads the package is restarted, as the
// failed step cut the apply before its own restarts ran.
func TestRestartAfterUndoLeavingUpgrade(t *testing.T) {
	sb, ev := markSandbox(t)
	sb.fs().AptRepo(sbx.Deb{Name: "trail-a", Version: "2.0"})
	from := len(*ev)
	list := "PKG trail-a version=2.0\n" + markUnit + `CMD boom run="exit 1" undo="true" timeout=5s`
	if _, err := sb.applyErr(list, "c2"); err == nil || !strings.Contains(err.Error(), "exit status 1") {
		t.Fatalf("apply: %v, want the command's failure", err)
	}
	if st := sb.fs().PkgState("trail-a"); st != "installed 2.0" {
		t.Fatalf("trail-a is %q after the undo, want installed 2.0 (1.0 cannot be installed again)", st)
	}
	checkRestarts(t, "the failed apply and its undo", restartsIn((*ev)[from:]), "would restart (put back: package:trail-a)")
}
