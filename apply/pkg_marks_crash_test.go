package apply

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	sbx "trail/apply/internal/sandbox"
)

// onceAccountScript is a postinst that makes the system user and group
// name (uid and gid id) unless the account files have them, and, with
// unit, enables it unless its link is there: run again after a part of
// what it made was removed, it makes the rest, as adduser and
// deb-systemd-helper do.
func onceAccountScript(name string, id int, unit string) map[string]string {
	s := fmt.Sprintf("#!/bin/sh\nset -e\n[ \"$1\" = configure ] || exit 0\n"+
		"add() { while IFS=: read -r n rest; do [ \"$n\" = %[1]s ] && return 0; done <\"$1\"; echo \"$2\" >>\"$1\"; }\n"+
		"add /etc/passwd '%[1]s:x:%[2]d:%[2]d::/nonexistent:/usr/sbin/nologin'\nadd /etc/group '%[1]s:x:%[2]d:'\n"+
		"add /etc/shadow '%[1]s:!:19000::::::'\nadd /etc/gshadow '%[1]s:!::'\n", name, id)
	if unit != "" {
		link := "/etc/systemd/system/multi-user.target.wants/" + unit
		s += "[ -L " + link + " ] || { mkdir -p /etc/systemd/system/multi-user.target.wants; ln -s /lib/systemd/system/" + unit + " " + link + "; }\n"
	}
	return map[string]string{"postinst": s}
}

// The rollback of trail-a and trail-b, sharing trail-c, whose postinst
// makes the user trail-c and enables its unit (trail-a's makes the user
// trail-a), is killed at every boundary. After recovery the accounts and
// links are those from before the rollback (it was undone, the postinsts
// making again what the purge took) or from before trail (it committed).
func TestPackageRemovalMarksCrash(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("re-executes the test binary at every crash point")
	}
	sb := newDebSandbox(t)
	sb.fs().WithShadow(true)
	sb.fs().WithShell("/bin/mkdir", "/bin/ln")
	sb.fs().AptRepo(sbx.Deb{Name: "trail-a", Version: "1.0", Depends: "trail-c", Scripts: onceAccountScript("trail-a", 991, "")},
		sbx.Deb{Name: "trail-b", Version: "1.0", Depends: "trail-c"},
		sbx.Deb{Name: "trail-c", Version: "1.0", Files: map[string]string{"/lib/systemd/system/trail-c.service": "[Service]\n"},
			Scripts: onceAccountScript("trail-c", 990, "trail-c.service")})
	const link = "/etc/systemd/system/multi-user.target.wants/trail-c.service"
	pristine, pristineAccts := sb.fs().Packages(), sb.fs().Accounts()
	sb.apply("FILE /srv/base {base}\nPKG trail-a", "A")
	sb.apply("FILE /srv/base {base}\nPKG trail-b\nPKG trail-a", "B")
	installed, installedAccts := sb.fs().Packages(), sb.fs().Accounts()
	if sb.fs().Entry("/etc/passwd", "trail-c") == "" || sb.fs().Entry("/etc/passwd", "trail-a") == "" || !sb.fs().Exists(link) {
		t.Fatalf("the postinsts made no users or link:\n%s", sb.fs().Read("/etc/passwd"))
	}
	listFile := filepath.Join(t.TempDir(), "a.steps")
	if err := os.WriteFile(listFile, stepsText(sb.list("FILE /srv/base {base}")), 0o644); err != nil {
		t.Fatal(err)
	}
	sb.e.Close()
	committed, cut := 0, 0
	for at := 1; ; at++ {
		csb := crashCopy(t, sb, listFile, "C", at)
		if csb == nil {
			break
		}
		if csb.fs().Entry("/etc/passwd", "trail-c") == "" {
			cut++
		}
		gen := csb.recover(t)
		want, accts, linked := installed, installedAccts, true
		if gen == 3 {
			want, accts, linked = pristine, pristineAccts, false
			committed++
			cut--
		}
		if got := csb.fs().Packages(); got != want {
			t.Fatalf("crash point %d (generation %d): after recovery packages are:\n%s\nwant:\n%s", at, gen, got, want)
		}
		csb.fs().SameAccounts(accts, fmt.Sprintf("crash point %d (generation %d), after recovery", at, gen))
		if csb.fs().Exists(link) != linked {
			t.Errorf("crash point %d (generation %d): trail-c's link there: %v, want %v", at, gen, !linked, linked)
		}
	}
	if committed == 0 || cut == 0 {
		t.Fatalf("%d crash points after the commit, %d after the user went and before it, want some of each", committed, cut)
	}
}
