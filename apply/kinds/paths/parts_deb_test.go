package paths_test

import (
	"fmt"
	"strings"
	"testing"

	"trail/apply/internal/sandbox"
	"trail/apply/internal/sandbox/engine"
)

// sshdDeb ships a config that is not a conffile (so an upgrade replaces
// it) and a key whose attributes a role tightens.
func sshdDeb(version, config string) sandbox.Deb {
	return sandbox.Deb{Name: "trail-sshd", Version: version, NoConf: true,
		Files: map[string]string{"/etc/trail-ssh/sshd_config": config, "/etc/trail-ssh/host_key": "key " + version + "\n"}}
}

// One commit installs a package and edits its config and tightens its
// key: the plan lets the files the package brings pass, the apply edits
// them once it is installed, and removing it all leaves no trace.
func TestEditAndAttrsOfAPackageInOneApply(t *testing.T) {
	sb := engine.NewDeb(t)
	sb.AptRepo(sshdDeb("1.0", sshdConfig))
	steps := fmt.Sprintf("PKG trail-sshd owns=/etc/trail-ssh\nEDIT /etc/trail-ssh/sshd_config %s\nATTRS /etc/trail-ssh/host_key mode=0600",
		script(sb, noRoot))
	p, err := sb.E.Plan(sb.List(steps))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(p.Work[1].Changes, "; "); got != "edit it (the file comes with a package of this apply)" {
		t.Fatalf("plan of the edit: %q", got)
	}
	sb.Apply(steps, "c1")
	sb.WantFile("/etc/trail-ssh/sshd_config", strings.Replace(sshdConfig, "#PermitRootLogin prohibit-password", "PermitRootLogin no", 1), 0o644, 0, 0)
	sb.WantFile("/etc/trail-ssh/host_key", "key 1.0\n", 0o600, 0, 0)
	sb.Apply("", "c2")
	for _, p := range []string{"/etc/trail-ssh/sshd_config", "/etc/trail-ssh/host_key"} {
		if sb.Exists(p) {
			t.Errorf("%s is still there after the package was purged", p)
		}
	}
	if after := sandbox.Snapshot(t, sb.Dir); strings.Contains(after, "etc/trail-ssh") {
		t.Fatalf("the package's directory is left:\n%s", after)
	}
}

// A real upgrade replaces the edited file; the apply that upgrades it
// applies the unchanged edits to the new version at once (no drift left),
// and the next change of the edits applies them to it too, which a
// rollback then keeps.
func TestEditSurvivesAPackageUpgrade(t *testing.T) {
	sb := engine.NewDeb(t)
	v2 := "# 2.0\n#PermitRootLogin prohibit-password\nPasswordAuthentication yes\n"
	sb.AptRepo(sshdDeb("1.0", sshdConfig), sshdDeb("2.0", v2))
	sb.Apply("PKG trail-sshd version=1.0 owns=/etc/trail-ssh", "c0")
	edit := fmt.Sprintf("EDIT /etc/trail-ssh/sshd_config %s\n", script(sb, noRoot))
	sb.Apply("PKG trail-sshd version=1.0 owns=/etc/trail-ssh\n"+edit, "c1")
	sb.Apply("PKG trail-sshd version=2.0 owns=/etc/trail-ssh\n"+edit, "c2")
	sb.WantFile("/etc/trail-ssh/sshd_config", "# 2.0\nPermitRootLogin no\nPasswordAuthentication yes\n", 0o644, 0, 0)
	drift, err := sb.E.Drift()
	if err != nil || len(drift) != 0 {
		t.Fatalf("drift after the upgrade = %+v, %v", drift, err)
	}
	sb.Apply(fmt.Sprintf("PKG trail-sshd version=2.0 owns=/etc/trail-ssh\nEDIT /etc/trail-ssh/sshd_config %s\n", script(sb, noRoot, noPass)), "c3")
	sb.WantFile("/etc/trail-ssh/sshd_config", "# 2.0\nPermitRootLogin no\nPasswordAuthentication no\n", 0o644, 0, 0)
	sb.Apply("PKG trail-sshd version=2.0 owns=/etc/trail-ssh", "c4")
	sb.WantFile("/etc/trail-ssh/sshd_config", v2, 0o644, 0, 0)
}
