package apply

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"trail/internal/lineedit"
)

// The apply from A to B modifies an EDIT (another script) and an ATTRS
// (another attribute, the old one back to its origin), adds an EDIT and
// a FILE checked by validate, removes an ATTRS and a FILE, and is killed
// with SIGKILL at every boundary in turn. After recovery the root must be
// exactly A or exactly B, as the applied record says, and B applied
// again must give the B of an apply never cut.
func TestCrashFilePartsAtEveryBoundary(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary dozens of times")
	}
	for _, failing := range []bool{false, true} {
		t.Run(fmt.Sprintf("failing=%v", failing), func(t *testing.T) {
			t.Parallel()
			crashFilePartsCase(t, failing)
		})
	}
}

func crashFilePartsCase(t *testing.T, failing bool) {
	sb := newSandbox(t)
	sb.write("/etc/ssh/sshd_config", "#PermitRootLogin prohibit-password\nPasswordAuthentication yes\n", 0o644)
	sb.write("/etc/login.defs", "UMASK 022\nPASS_MAX_DAYS 99999\n", 0o644)
	sb.write("/etc/shadowish", "secret\n", 0o644)
	sb.write("/etc/gone", "x\n", 0o644)
	put := func(edits ...lineedit.Edit) string {
		k, err := sb.e.Store().Put(lineedit.Format(edits))
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	root := lineedit.Edit{Line: "PermitRootLogin no", Regexp: "^#?PermitRootLogin"}
	pass := lineedit.Edit{Line: "PasswordAuthentication no", Regexp: "^#?PasswordAuthentication"}
	a := anchors + fmt.Sprintf(`EDIT /etc/ssh/sshd_config %s
ATTRS /etc/shadowish mode=0640 owner=alice
ATTRS /etc/gone mode=0600
FILE /etc/old.conf {old}
`, put(root))
	b := anchors + fmt.Sprintf(`EDIT /etc/ssh/sshd_config %s validate="grep -q PasswordAuthentication %%s"
ATTRS /etc/shadowish mode=0640 group=staff
EDIT /etc/login.defs %s
FILE /etc/app.conf {new} validate="grep -q new %%s"
`, put(root, pass), put(lineedit.Edit{Line: "UMASK 027", Regexp: "^UMASK"}))
	sb.apply(a, "A")
	sb.e.Close()
	old := snapshot(t, sb.root)
	h := &crashHarness{t: t, root: sb.root, state: sb.opts.StateDir, good: writeList(t, sb, b), goodList: sb.list(b), snap: snapshot}
	h.list = h.good
	if failing {
		h.list = writeList(t, sb, b+"CHECK never run=\"exit 1\" timeout=5s\n")
	}
	r, st := h.fresh(0)
	h.run(r, st, h.good, 0)
	want := snapshot(t, r)
	for f, s := range map[string]string{"etc/ssh/sshd_config": "PasswordAuthentication no", "etc/login.defs": "UMASK 027", "etc/app.conf": "new"} {
		if b, err := os.ReadFile(r + "/" + f); err != nil || !strings.Contains(string(b), s) {
			t.Fatalf("after B, %s lacks %q: %q %v", f, s, b, err)
		}
	}
	points := h.everyPoint(old, want)
	if points < 8 {
		t.Fatalf("only %d crash points: the hook is not wired", points)
	}
	t.Logf("%d crash points, each recovered to A or B and applied again to B", points)
}
