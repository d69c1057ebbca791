package accounts_test

import (
	"maps"
	"os/exec"
	"testing"

	"trail/apply/internal/sandbox/engine"
)

// An account that was there before trail and that a step makes absent
// comes back, when the step goes, at the line it held in each of the four
// account files: the files are byte for byte as before (DESIGN invariant
// 1), not with its lines appended as useradd and groupadd write them.
func TestAbsentAccountBackInPlace(t *testing.T) {
	cases := map[string]string{
		"a user":                       "USER mid absent=true",
		"a member of groups":           "USER mid2 absent=true",
		"a group":                      "GROUP gmid absent=true",
		"a user and its group":         "USER mid absent=true\nGROUP mid absent=true",
		"neighbours, the later first":  "USER mid2 absent=true\nUSER mid absent=true\nGROUP gmid2 absent=true\nGROUP gmid absent=true",
		"neighbours, the former first": "USER mid absent=true\nUSER mid2 absent=true\nGROUP gmid absent=true\nGROUP gmid2 absent=true",
	}
	for name, list := range cases {
		t.Run(name, func(t *testing.T) {
			sb := engine.NewAccounts(t, true)
			for _, args := range [][]string{
				{"groupadd", "gfirst"}, {"groupadd", "gmid"}, {"groupadd", "gmid2"},
				{"useradd", "-M", "first"}, {"useradd", "-M", "-c", "In the middle", "-s", "/bin/sh", "mid"},
				{"useradd", "-M", "-G", "gfirst", "mid2"}, {"useradd", "-M", "-G", "gfirst,gmid", "last"}, {"groupadd", "glast"},
				{"usermod", "-a", "-G", "gfirst", "first"}, {"usermod", "-a", "-G", "gmid", "mid2"},
			} {
				cmd := exec.Command(args[0], append([]string{"--prefix", sb.Dir}, args[1:]...)...)
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("%v: %v: %s", args, err, out)
				}
			}
			sb.RemoveToolFiles()
			start := sb.Accounts()
			sb.Apply(engine.Anchors+list, "absent")
			if maps.Equal(sb.Accounts(), start) {
				t.Fatal("the absent steps removed nothing: the test is void")
			}
			sb.Opts.AllowMassRemoval = true
			sb.Open()
			sb.Apply(engine.Anchors, "gone")
			sb.SameAccounts(start, "after the absent steps went")
		})
	}
}
