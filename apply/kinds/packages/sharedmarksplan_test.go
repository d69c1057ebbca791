package packages_test

import (
	"bytes"
	"strings"
	"testing"

	"trail/apply"
)

// Two going packages whose installs both brought trail-d claim the user,
// group and enablement link its postinst made: the plan removes each of
// them once, under one package, not once for each, and the removal
// leaves none of them.
func TestSharedMarksPlannedOnce(t *testing.T) {
	t.Parallel()
	sb := sharedMarksRepo(t)
	const anchors = "DIR /srv/a\nDIR /srv/b\nDIR /srv/c\n"
	accts := sb.Accounts()
	sb.Apply(anchors+"PKG trail-a\nPKG trail-b", "c1")
	p, err := sb.E.Plan(sb.List(anchors))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := apply.PrintPlan(&b, p); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"remove user trail-d", "remove group trail-d", "remove user trail-a", "remove group trail-a",
		"remove link /etc/systemd/system/multi-user.target.wants/trail-d.service"} {
		if n := strings.Count(b.String(), "    "+line+"\n"); n != 1 {
			t.Errorf("the plan says %q %d times, want once:\n%s", line, n, b.String())
		}
	}
	sb.Apply(anchors, "c2")
	if got := sb.Accounts(); got["/etc/passwd"] != accts["/etc/passwd"] || got["/etc/group"] != accts["/etc/group"] {
		t.Errorf("after the removal the accounts are not as before trail:\n%s\nwant:\n%s", got, accts)
	}
}
