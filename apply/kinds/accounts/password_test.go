package accounts_test

import (
	"fmt"
	"strings"
	"testing"

	"trail/apply"
	"trail/apply/internal/sandbox/engine"
	"trail/apply/kinds/accounts"
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
