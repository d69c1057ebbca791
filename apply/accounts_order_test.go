package apply

import (
	"testing"
)

// Path independence of the account files (DESIGN invariant 1): after
// A, then B without some of A's accounts, then A again, the four account
// files are byte for byte what a fresh apply of A gives on the same
// starting root; and the reverse of everything gives the starting files
// back, an entry the tools had to delete and add again included.
func TestAccountFilesPathIndependent(t *testing.T) {
	cases := map[string]struct{ a, b string }{
		"users": {
			a: anchors + "USER u1 uid=1401\nUSER u2 uid=1402",
			b: anchors + "USER u2 uid=1402",
		},
		"users with ids and groups": {
			a: anchors + "GROUP g1 gid=1200\nUSER u1 uid=1201 groups=g1,staff\nGROUP g2 gid=1300 members=u1\nUSER u2 uid=1301 groups=g1",
			b: anchors + "GROUP g1 gid=1200\nUSER u2 uid=1301 groups=g1",
		},
		"group of a user's name existing before": {
			a: anchors + "USER u1 uid=1501\nUSER dave uid=1600\nUSER u2 uid=1502",
			b: anchors + "USER u2 uid=1502",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			setup := func() *sandbox {
				sb := acctSandbox(t, true)
				sb.write("/etc/group", sb.read("/etc/group")+"dave:x:1600:\nlate:x:1601:\n", 0o644)
				sb.write("/etc/gshadow", sb.read("/etc/gshadow")+"dave:!::\nlate:!::\n", 0o640)
				return sb
			}
			fresh := setup()
			fresh.apply(tc.a, "a")
			want := fresh.accounts()

			sb := setup()
			start := sb.accounts()
			sb.apply(tc.a, "a")
			sb.sameAccounts(want, "A, as a fresh apply")
			sb.apply(tc.b, "b")
			sb.apply(tc.a, "a2")
			sb.sameAccounts(want, "A, then B, then A again")
			sb.e.opts.AllowMassRemoval = true
			sb.apply(anchors, "none")
			sb.sameAccounts(start, "after every account step was removed")
		})
	}
}
