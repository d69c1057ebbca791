package apply

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	sbx "trail/apply/internal/sandbox"
	"trail/internal/lineedit"
)

// An apply that upgrades a package whose files unchanged EDIT, FILE and
// ATTRS steps manage (the upgrade replaces them, the apply puts the
// managed content back) is killed at every boundary: after recovery the
// package and the three files are wholly as before the apply, or, when
// the record names the new generation, as after it; applying it again
// gives the latter.
func TestShippedRecheckCrash(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("re-executes the test binary at every crash point")
	}
	sb := newDebSandbox(t)
	edits, err := sb.e.Store().Put(lineedit.Format([]lineedit.Edit{{Line: "PermitRootLogin no", Regexp: "^#?PermitRootLogin"}}))
	if err != nil {
		t.Fatal(err)
	}
	steps := func(version string) string {
		return fmt.Sprintf("PKG trail-conf version=%s owns=/etc/trail-conf,/usr/share/trail-conf\nEDIT /etc/trail-conf/app.conf %s\n"+
			"FILE /usr/share/trail-conf/data {trail's data\n}\nATTRS /usr/share/trail-conf/key mode=0600\n", version, edits)
	}
	want := "installed 2.0\n/etc/trail-conf/app.conf \"# 2.0\\nPermitRootLogin no\\n\" 0644\n" +
		"/usr/share/trail-conf/data \"trail's data\\n\" 0644\n/usr/share/trail-conf/key \"key 2.0\\n\" 0600"
	shippedCrash(t, sb, steps("1.0"), steps("2.0"), want)
}

// The same, a package installed before trail and the FILE and ATTRS
// steps on its files before its PKG step (no owns= orders it first): the
// upgrade's apply changes the FILE and adds the ATTRS before the upgrade
// writes both files, and makes them again after it.
func TestShippedRecheckCrashStepsBefore(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("re-executes the test binary at every crash point")
	}
	sb := newDebSandbox(t)
	sb.fs().DpkgInstall(sbx.BuildDeb(t, t.TempDir(), shippedDeb("1.0", "# 1.0\nPermitRootLogin no\n")))
	before := anchors + "FILE /usr/share/trail-conf/data {trail's data\n}\n"
	after := anchors + "FILE /usr/share/trail-conf/data {trail's new data\n}\nATTRS /usr/share/trail-conf/key mode=0600\nPKG trail-conf version=2.0\n"
	want := "installed 2.0\n/etc/trail-conf/app.conf \"# 2.0\\n#PermitRootLogin yes\\n\" 0644\n" +
		"/usr/share/trail-conf/data \"trail's new data\\n\" 0644\n/usr/share/trail-conf/key \"key 2.0\\n\" 0600"
	shippedCrash(t, sb, before, after, want)
}

// The same, a package not installed before, whose install ships files
// unchanged FILE steps (and the DIR steps above them) manage: the undo's
// purge removes them, and the pre-images journaled before the install,
// from the archive apt would unpack, put them back after it.
func TestShippedInstallCrash(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("re-executes the test binary at every crash point")
	}
	sb := newDebSandbox(t)
	before := anchors + "DIR /usr\nDIR /usr/share\nDIR /usr/share/trail-conf\n" +
		"FILE /usr/share/trail-conf/data {trail's data\n} mode=0640\nFILE /usr/share/trail-conf/key {trail's key\n} mode=0600\n"
	want := "installed 1.0\n/etc/trail-conf/app.conf \"# 1.0\\nPermitRootLogin no\\n\" 0644\n" +
		"/usr/share/trail-conf/data \"trail's data\\n\" 0640\n/usr/share/trail-conf/key \"trail's key\\n\" 0600"
	shippedCrash(t, sb, before, before+"PKG trail-conf version=1.0\n", want)
}

// shippedDeb ships a conffile, a data file and a key (neither conffiles).
func shippedDeb(version, conf string) sbx.Deb {
	return sbx.Deb{Name: "trail-conf", Version: version, Files: map[string]string{
		"/etc/trail-conf/app.conf":   conf,
		"/usr/share/trail-conf/data": "data " + version + "\n",
		"/usr/share/trail-conf/key":  "key " + version + "\n",
	}}
}

// shippedCrash applies stepsA, then kills the apply of stepsB at every
// boundary: after recovery the package and its three files are wholly as
// before it, or, when the record names the new generation, as after it;
// applying stepsB again gives want.
func shippedCrash(t *testing.T, sb *sandbox, stepsA, stepsB, want string) {
	sb.fs().AptRepo(shippedDeb("1.0", "# 1.0\nPermitRootLogin no\n"), shippedDeb("2.0", "# 2.0\n#PermitRootLogin yes\n"))
	files := []string{"/etc/trail-conf/app.conf", "/usr/share/trail-conf/data", "/usr/share/trail-conf/key"}
	look := func(s *sandbox) string {
		out := s.fs().PkgState("trail-conf")
		for _, p := range files {
			data, err := os.ReadFile(s.host(p))
			fi, serr := os.Stat(s.host(p))
			if errors.Is(err, fs.ErrNotExist) {
				out += "\n" + p + " absent"
				continue
			}
			if err != nil || serr != nil {
				out += fmt.Sprintf("\n%s: %v %v", p, err, serr)
				continue
			}
			out += fmt.Sprintf("\n%s %q %04o", p, data, fi.Mode().Perm())
		}
		return out
	}
	sb.apply(stepsA, "A")
	before := look(sb)
	listFile := filepath.Join(t.TempDir(), "b.steps")
	if err := os.WriteFile(listFile, stepsText(sb.list(stepsB)), 0o644); err != nil {
		t.Fatal(err)
	}
	sb.e.Close()
	var after string
	points := 0
	for at := 1; ; at++ {
		csb := crashCopy(t, sb, listFile, "B", at)
		if csb == nil {
			break
		}
		points++
		gen := csb.recover(t)
		got := look(csb)
		if gen != 2 && got != before {
			t.Fatalf("crash point %d: after recovery:\n%s\nwant as before the apply:\n%s", at, got, before)
		}
		csb.apply(stepsB, "B")
		again := look(csb)
		if gen == 2 && got != again {
			t.Fatalf("crash point %d: committed, but after recovery:\n%s\nwant:\n%s", at, got, again)
		}
		if after == "" {
			after = again
		} else if again != after {
			t.Fatalf("crash point %d: B applied again gives:\n%s\nwant:\n%s", at, again, after)
		}
	}
	if after != want {
		t.Fatalf("B gives:\n%s\nwant:\n%s", after, want)
	}
	t.Logf("%d crash points", points)
}
