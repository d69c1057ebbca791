package accounts_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"trail/apply"
	"trail/apply/internal/sandbox/engine"
	"trail/apply/kinds/accounts"
	"trail/stepfmt"
)

// A USER's password hash is never shown: not in the events (the journal
// gets them), not in a plan, not in a shadow tool's error message.
func TestPasswordHashNeverShown(t *testing.T) {
	sb := engine.NewAccounts(t, true)
	var ev engine.Events
	sb.Opts.OnEvent = ev.Add
	sb.Open()
	const one, two = "$6$saltone$hashone", "$6$salttwo$hashtwo"
	sb.Apply(engine.Anchors+"USER carol password="+one, "c1")
	p, err := sb.E.Plan(sb.List(engine.Anchors + "USER carol password=" + two))
	if err != nil {
		t.Fatal(err)
	}
	var plan strings.Builder
	if err := apply.PrintPlan(&plan, p); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plan.String(), "$6$") || !strings.Contains(plan.String(), "USER carol password=(hidden)") {
		t.Errorf("plan:\n%s", plan.String())
	}
	sb.Apply(engine.Anchors+"USER carol password="+two, "c2")
	sb.Apply(engine.Anchors, "c3")
	if len(ev) == 0 {
		t.Fatal("no events")
	}
	for _, e := range ev {
		if s := fmt.Sprintf("%+v %v", e, e.Err); strings.Contains(s, "$6$") {
			t.Errorf("event shows a password hash: %s", s)
		}
	}
	err = accounts.ShadowTool(sb.Exec(), "usermod", "-p", one, "nosuchuser")
	if err == nil || strings.Contains(err.Error(), one) || !strings.Contains(err.Error(), "usermod") || !strings.Contains(err.Error(), "-p (hidden) nosuchuser") {
		t.Errorf("a failed usermod -p says: %v", err)
	}
}

// A password the shadow file cannot store is refused without showing it:
// it may be a plain password given by mistake.
func TestPasswordRefusalHidden(t *testing.T) {
	sb := engine.NewAccounts(t, true)
	sb.Open()
	_, err := sb.E.Plan(sb.List(engine.Anchors + `USER carol password="se:cret"`))
	if err == nil || !strings.Contains(err.Error(), "password holds a colon or a line break") {
		t.Fatalf("err = %v, want a refusal of the colon", err)
	}
	if strings.Contains(err.Error(), "se:cret") {
		t.Errorf("the refusal shows the password: %v", err)
	}
}

// A USER whose password changed behind trail's back is reported without
// the hash trail keeps of it: the drift events (the journal gets them)
// and the generation's drift notes show password=(hidden).
func TestPasswordDriftHidden(t *testing.T) {
	sb := engine.NewAccounts(t, true)
	ev := sb.Record()
	sb.Apply(engine.Anchors+"USER carol password=$6$saltone$hashone", "c1")
	shadow := filepath.Join(sb.Dir, "etc", "shadow")
	b, err := os.ReadFile(shadow)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(shadow, bytes.Replace(b, []byte("$6$saltone$hashone"), []byte("$6$saltout$hashout"), 1), 0o640); err != nil {
		t.Fatal(err)
	}
	if d, err := sb.E.Drift(); err != nil || len(d) != 1 {
		t.Fatalf("drift = %v, %v, want carol's", d, err)
	}
	g := sb.Apply(engine.Anchors+"USER carol password=$6$salttwo$hashtwo", "c2")
	var shown []string
	for _, e := range ev.Of(apply.EventDrift) {
		shown = append(shown, e.Detail)
	}
	for _, n := range g.Drift {
		shown = append(shown, n.Before, n.After)
	}
	if len(shown) != 4 {
		t.Fatalf("drift shown %d times, want 2 events and a note's 2 images: %q", len(shown), shown)
	}
	for _, s := range shown {
		if strings.Contains(s, "sha256:") || strings.Contains(s, "$6$") || !strings.Contains(s, "password="+stepfmt.Hidden) {
			t.Errorf("drift shows %q, want password=%s", s, stepfmt.Hidden)
		}
	}
}
