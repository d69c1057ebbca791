package paths_test

import (
	"fmt"
	"strings"
	"testing"

	"trail/apply"
	"trail/apply/internal/sandbox"
	"trail/apply/internal/sandbox/engine"
)

// confDeb ships a conffile, a data file and a key (neither conffiles).
func confDeb(version, conf string) sandbox.Deb {
	return sandbox.Deb{Name: "trail-conf", Version: version, Files: map[string]string{
		"/etc/trail-conf/app.conf":   conf,
		"/usr/share/trail-conf/data": "data " + version + "\n",
		"/usr/share/trail-conf/key":  "key " + version + "\n",
	}}
}

// A package upgraded in an apply whose EDIT, FILE and ATTRS steps on the
// files it ships are unchanged: dpkg replaces the conffile (trail's edits
// changed nothing of 1.0's, so dpkg finds it unmodified), the data file
// and the key, and the apply then checks those steps again and puts back
// what they manage, so the machine holds the managed content when the
// apply ends (no drift), the edits on the upgrade's file. An apply of a
// further upgrade that fails is undone exactly: files and package as
// before it.
func TestUnchangedStepsHoldOverAPackageUpgrade(t *testing.T) {
	sb := engine.NewDeb(t)
	v1 := "# 1.0\nPermitRootLogin no\n"
	v2 := "# 2.0\n#PermitRootLogin prohibit-password\nPasswordAuthentication yes\n"
	v3 := "# 3.0\n#PermitRootLogin yes\n"
	sb.AptRepo(confDeb("1.0", v1), confDeb("2.0", v2), confDeb("3.0", v3))
	steps := func(version string) string {
		return fmt.Sprintf("PKG trail-conf version=%s owns=/etc/trail-conf,/usr/share/trail-conf\nEDIT /etc/trail-conf/app.conf %s\n"+
			"FILE /usr/share/trail-conf/data {trail's data\n}\nATTRS /usr/share/trail-conf/key mode=0600\n", version, script(sb, noRoot))
	}
	sb.Apply(steps("1.0"), "c1")
	sb.WantFile("/etc/trail-conf/app.conf", v1, 0o644, 0, 0)
	sb.WantFile("/usr/share/trail-conf/data", "trail's data\n", 0o644, 0, 0)
	sb.WantFile("/usr/share/trail-conf/key", "key 1.0\n", 0o600, 0, 0)

	ev := sb.Record()
	g := sb.Apply(steps("2.0"), "c2")
	if got := sb.PkgState("trail-conf"); got != "installed 2.0" {
		t.Fatalf("trail-conf is %q", got)
	}
	sb.WantFile("/etc/trail-conf/app.conf", "# 2.0\nPermitRootLogin no\nPasswordAuthentication yes\n", 0o644, 0, 0)
	sb.WantFile("/usr/share/trail-conf/data", "trail's data\n", 0o644, 0, 0)
	sb.WantFile("/usr/share/trail-conf/key", "key 2.0\n", 0o600, 0, 0)
	if drift, err := sb.E.Drift(); err != nil || len(drift) != 0 {
		t.Fatalf("drift after the upgrade's apply: %+v %v", drift, err)
	}
	if g.Counts.Modified != 4 || g.Counts.Unchanged != 0 || g.Counts.Drifted != 0 {
		t.Errorf("counts of the upgrade's apply: %+v, want the package and the three steps it undid modified, no drift", g.Counts)
	}
	var why []string
	for _, e := range ev.Of(apply.EventStep) {
		if strings.Contains(e.Detail, "after PKG trail-conf, which ships it") {
			why = append(why, e.Step)
		}
	}
	if len(why) != 3 || len(ev.Of(apply.EventDrift)) != 0 {
		t.Errorf("the steps put back say why: %q; drift events: %v", why, ev.Of(apply.EventDrift))
	}

	want := map[string]string{}
	for _, p := range []string{"/etc/trail-conf/app.conf", "/usr/share/trail-conf/data", "/usr/share/trail-conf/key"} {
		want[p] = fmt.Sprintf("%q %04o", sb.Read(p), sb.Stat(p).Mode&0o7777)
	}
	_, err := sb.ApplyErr(steps("3.0")+"CHECK fails run=false timeout=5s\n", "c3")
	if err == nil {
		t.Fatal("an apply whose check fails succeeded")
	}
	if got := sb.PkgState("trail-conf"); got != "installed 2.0" {
		t.Errorf("after the failed apply trail-conf is %q", got)
	}
	for p, w := range want {
		if got := fmt.Sprintf("%q %04o", sb.Read(p), sb.Stat(p).Mode&0o7777); got != w {
			t.Errorf("after the failed apply %s is %s, want %s", p, got, w)
		}
	}
}

// A package installed before trail, upgraded by a PKG step, goes back to
// its version when the step goes (a rollback): the downgrade replaces its
// files again, and the unchanged FILE and ATTRS steps on them are put
// back in that apply too.
func TestUnchangedStepsHoldOverAPackageRollback(t *testing.T) {
	sb := engine.NewDeb(t)
	v1, v2 := "# 1.0\n", "# 2.0\n"
	sb.AptRepo(confDeb("1.0", v1), confDeb("2.0", v2))
	sb.DpkgInstall(sandbox.BuildDeb(t, t.TempDir(), confDeb("1.0", v1)))
	files := engine.Anchors + "FILE /usr/share/trail-conf/data {trail's data\n}\nATTRS /usr/share/trail-conf/key mode=0600\n"
	sb.Apply(files, "c1")
	sb.Apply(files+"PKG trail-conf version=2.0\n", "c2")
	sb.WantFile("/usr/share/trail-conf/data", "trail's data\n", 0o644, 0, 0)
	sb.WantFile("/usr/share/trail-conf/key", "key 2.0\n", 0o600, 0, 0)
	sb.Apply(files, "c1")
	if got := sb.PkgState("trail-conf"); got != "installed 1.0" {
		t.Fatalf("after the rollback trail-conf is %q", got)
	}
	sb.WantFile("/usr/share/trail-conf/data", "trail's data\n", 0o644, 0, 0)
	sb.WantFile("/usr/share/trail-conf/key", "key 1.0\n", 0o600, 0, 0)
	if drift, err := sb.E.Drift(); err != nil || len(drift) != 0 {
		t.Fatalf("drift after the rollback: %+v %v", drift, err)
	}
}

// A failed apply that upgrades a package and, after it in the plan,
// changes the FILE, EDIT and ATTRS steps on files the package ships is
// undone exactly: those changes' own pre-images are what the upgrade
// left, which the downgrade of the undo writes over, so the files are
// put back from what they were before the apply, after it.
func TestChangedStepsOverAPackageUpgradeUndoneExactly(t *testing.T) {
	sb := engine.NewDeb(t)
	v1 := "# 1.0\nPermitRootLogin no\n"
	v2 := "# 2.0\n#PermitRootLogin prohibit-password\nPasswordAuthentication yes\n"
	sb.AptRepo(confDeb("1.0", v1), confDeb("2.0", v2))
	steps := func(version, data, mode, edit string) string {
		return fmt.Sprintf("PKG trail-conf version=%s owns=/etc/trail-conf,/usr/share/trail-conf\nEDIT /etc/trail-conf/app.conf %s\n"+
			"FILE /usr/share/trail-conf/data {%s\n}\nATTRS /usr/share/trail-conf/key mode=%s\n", version, edit, data, mode)
	}
	sb.Apply(steps("1.0", "trail's data", "0600", script(sb, noRoot)), "c1")
	want := map[string]string{}
	for _, p := range []string{"/etc/trail-conf/app.conf", "/usr/share/trail-conf/data", "/usr/share/trail-conf/key"} {
		want[p] = fmt.Sprintf("%q %04o", sb.Read(p), sb.Stat(p).Mode&0o7777)
	}
	_, err := sb.ApplyErr(steps("2.0", "trail's new data", "0640", script(sb, noRoot, noPass))+"CHECK fails run=false timeout=5s\n", "c2")
	if err == nil {
		t.Fatal("an apply whose check fails succeeded")
	}
	if got := sb.PkgState("trail-conf"); got != "installed 1.0" {
		t.Errorf("after the failed apply trail-conf is %q", got)
	}
	for p, w := range want {
		if got := fmt.Sprintf("%q %04o", sb.Read(p), sb.Stat(p).Mode&0o7777); got != w {
			t.Errorf("after the failed apply %s is %s, want %s", p, got, w)
		}
	}
}

// A package installed before trail, upgraded by an apply that, before the
// PKG step in the list (no owns= orders it first), changes a FILE step on
// a file it ships and adds one on another: the upgrade writes both files
// after them, and the apply writes them again, so that it ends with the
// steps' contents (no drift), counted once. The same apply failed is
// undone exactly.
func TestStepsMadeBeforeAPackageUpgradeHold(t *testing.T) {
	sb := engine.NewDeb(t)
	sb.AptRepo(confDeb("1.0", "# 1.0\n"), confDeb("2.0", "# 2.0\n"))
	sb.DpkgInstall(sandbox.BuildDeb(t, t.TempDir(), confDeb("1.0", "# 1.0\n")))
	sb.Apply(engine.Anchors+"FILE /usr/share/trail-conf/data {A\n}\n", "c1")
	before := sb.Read("/usr/share/trail-conf/data") + sb.Read("/usr/share/trail-conf/key")
	upgrade := engine.Anchors + "FILE /usr/share/trail-conf/data {B\n}\nFILE /usr/share/trail-conf/key {K\n}\nPKG trail-conf version=2.0\n"
	if _, err := sb.ApplyErr(upgrade+"CHECK fails run=false timeout=5s\n", "c2"); err == nil {
		t.Fatal("an apply whose check fails succeeded")
	}
	if got := sb.PkgState("trail-conf"); got != "installed 1.0" {
		t.Errorf("after the failed apply trail-conf is %q", got)
	}
	if got := sb.Read("/usr/share/trail-conf/data") + sb.Read("/usr/share/trail-conf/key"); got != before {
		t.Errorf("after the failed apply the files hold %q, want %q", got, before)
	}
	g := sb.Apply(upgrade, "c2")
	sb.WantFile("/usr/share/trail-conf/data", "B\n", 0o644, 0, 0)
	sb.WantFile("/usr/share/trail-conf/key", "K\n", 0o644, 0, 0)
	if drift, err := sb.E.Drift(); err != nil || len(drift) != 0 {
		t.Fatalf("drift after the upgrade's apply: %+v %v", drift, err)
	}
	if g.Counts.Added != 2 || g.Counts.Modified != 1 {
		t.Errorf("counts of the upgrade's apply: %+v, want the key's FILE and the PKG added, the data's FILE modified", g.Counts)
	}
}

// A failed apply that installs a package (not installed before) shipping
// two files unchanged FILE steps manage: the install writes both, the undo's purge removes them, and the
// undo then puts back what trail had there, content, mode and owner, from
// the pre-images journaled before the install (read from the archive apt
// would unpack). The same apply done gives the steps' contents.
func TestStepsOnFilesOfAFailedInstallHold(t *testing.T) {
	sb := engine.NewDeb(t)
	sb.AptRepo(confDeb("1.0", "# 1.0\n"))
	files := engine.Anchors + "DIR /usr\nDIR /usr/share\nDIR /usr/share/trail-conf\nFILE /usr/share/trail-conf/data {trail's data\n} mode=0640\n" +
		"FILE /usr/share/trail-conf/key {trail's key\n} mode=0600\n"
	sb.Apply(files, "c1")
	want := map[string]string{}
	for _, p := range []string{"/usr/share/trail-conf/data", "/usr/share/trail-conf/key"} {
		want[p] = fmt.Sprintf("%q %04o", sb.Read(p), sb.Stat(p).Mode&0o7777)
	}
	install := files + "PKG trail-conf version=1.0\n"
	if _, err := sb.ApplyErr(install+"CHECK fails run=false timeout=5s\n", "c2"); err == nil {
		t.Fatal("an apply whose check fails succeeded")
	}
	if got := sb.PkgState("trail-conf"); got != "absent" {
		t.Errorf("after the failed apply trail-conf is %q", got)
	}
	for p, w := range want {
		if !sb.Exists(p) {
			t.Errorf("after the failed apply %s is gone, want %s", p, w)
		} else if got := fmt.Sprintf("%q %04o", sb.Read(p), sb.Stat(p).Mode&0o7777); got != w {
			t.Errorf("after the failed apply %s is %s, want %s", p, got, w)
		}
	}
	sb.Apply(install, "c2")
	sb.WantFile("/usr/share/trail-conf/data", "trail's data\n", 0o640, 0, 0)
	sb.WantFile("/usr/share/trail-conf/key", "trail's key\n", 0o600, 0, 0)
	if drift, err := sb.E.Drift(); err != nil || len(drift) != 0 {
		t.Fatalf("drift after the install's apply: %+v %v", drift, err)
	}
}

// A failed apply that upgrades a package to a version shipping a file the
// old one did not, which an unchanged FILE step manages: the downgrade of
// the undo removes the file, and the undo puts trail's back after it.
func TestStepOnAFileAnUpgradeAddsHolds(t *testing.T) {
	sb := engine.NewDeb(t)
	v2 := confDeb("2.0", "# 2.0\n")
	v2.Files["/usr/share/trail-conf/extra"] = "extra 2.0\n"
	sb.AptRepo(confDeb("1.0", "# 1.0\n"), v2)
	steps := func(version string) string {
		return engine.Anchors + "PKG trail-conf version=" + version + " owns=/usr/share/trail-conf\n" +
			"FILE /usr/share/trail-conf/extra {trail's extra\n} mode=0600\n"
	}
	sb.Apply(steps("1.0"), "c1")
	sb.WantFile("/usr/share/trail-conf/extra", "trail's extra\n", 0o600, 0, 0)
	if _, err := sb.ApplyErr(steps("2.0")+"CHECK fails run=false timeout=5s\n", "c2"); err == nil {
		t.Fatal("an apply whose check fails succeeded")
	}
	if got := sb.PkgState("trail-conf"); got != "installed 1.0" {
		t.Errorf("after the failed apply trail-conf is %q", got)
	}
	if !sb.Exists("/usr/share/trail-conf/extra") {
		t.Fatal("after the failed apply /usr/share/trail-conf/extra is gone")
	}
	sb.WantFile("/usr/share/trail-conf/extra", "trail's extra\n", 0o600, 0, 0)
}
