package packages_test

import (
	"os"
	"os/exec"
	"reflect"
	"testing"

	"trail/apply/internal/sandbox"
	"trail/apply/internal/sandbox/engine"
	"trail/apply/kinds/packages"
)

// readMarks and since see the accounts and enablement links made between
// two reads of a root, made here as a postinst makes them: with the real
// useradd and a symlink in a .wants directory.
func TestMachineMarksSince(t *testing.T) {
	t.Parallel()
	sb := engine.NewAccounts(t, true)
	tools := packages.Tools{Root: sb.Dir}
	sb.Write("/etc/systemd/system/old.service", "[Service]\n", 0o644)
	before, err := packages.ReadMarks(tools)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("/usr/sbin/useradd", "--root", sb.Dir, "--system", "--user-group", "--no-create-home", "svc").CombinedOutput(); err != nil {
		t.Fatalf("useradd: %v\n%s", err, out)
	}
	os.MkdirAll(sb.Host("/etc/systemd/system/multi-user.target.wants"), 0o755)
	os.MkdirAll(sb.Host("/etc/systemd/system/other.d"), 0o755)
	for _, l := range []string{"/etc/systemd/system/multi-user.target.wants/svc.service", "/etc/systemd/system/svc-alias.service", "/etc/systemd/system/other.d/x.conf"} {
		if err := os.Symlink("/lib/systemd/system/svc.service", sb.Host(l)); err != nil {
			t.Fatal(err)
		}
	}
	after, err := packages.ReadMarks(tools)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"group:svc", "link:/etc/systemd/system/multi-user.target.wants/svc.service",
		"link:/etc/systemd/system/svc-alias.service", "user:svc"}
	if got := after.Since(before); !reflect.DeepEqual(got, want) {
		t.Fatalf("since: %q, want %q", got, want)
	}
	if got := after.Since(after); len(got) != 0 {
		t.Fatalf("since itself: %q", got)
	}
}

// An enablement link made during a call of several packages goes to the
// package that brought the unit's package, named as made by that one
// ("by:"); an account no script names, or a link to a unit no package
// ships, to all of them.
func TestAttributeMarks(t *testing.T) {
	t.Parallel()
	sb := engine.NewDeb(t)
	sb.DpkgInstall(sandbox.BuildDeb(t, t.TempDir(), sandbox.Deb{Name: "trail-svc", Version: "1.0",
		Files: map[string]string{"/lib/systemd/system/trail-svc.service": "[Service]\n"}}))
	links := map[string]string{
		"/etc/systemd/system/multi-user.target.wants/trail-svc.service": "/lib/systemd/system/trail-svc.service",
		"/etc/systemd/system/multi-user.target.wants/stray.service":     "/lib/systemd/system/stray.service",
	}
	for l, to := range links {
		os.MkdirAll(sb.Host("/etc/systemd/system/multi-user.target.wants"), 0o755)
		if err := os.Symlink(to, sb.Host(l)); err != nil {
			t.Fatal(err)
		}
	}
	steps := sb.List("PKG trail-a\nPKG trail-b").Steps
	made := []string{"link:/etc/systemd/system/multi-user.target.wants/stray.service",
		"link:/etc/systemd/system/multi-user.target.wants/trail-svc.service", "user:svc"}
	got := packages.AttributeMarks(packages.Tools{Root: sb.Dir}, steps, [][]string{{"trail-svc"}, nil}, nil, made)
	want := [][]string{{made[0], "by:trail-svc:" + made[1], made[2]}, {made[0], made[2]}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("attributed %q, want %q", got, want)
	}
}
