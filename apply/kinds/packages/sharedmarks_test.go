package packages_test

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"trail/apply/internal/sandbox"
	"trail/apply/internal/sandbox/engine"
	"trail/stepfmt"
)

// enablementLinks lists the symlinks under the root's /etc/systemd/system.
func enablementLinks(t *testing.T, sb *engine.Sandbox) string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(sb.Host("/etc/systemd/system"), func(p string, d fs.DirEntry, err error) error {
		if os.IsNotExist(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			out = append(out, strings.TrimPrefix(p, sb.Dir))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

// sharedMarksRepo is a root whose repository has trail-a and trail-b,
// both needing trail-d, whose postinst makes the user trail-d and enables
// trail-d.service; trail-a's own postinst makes the user trail-a.
func sharedMarksRepo(t *testing.T) *engine.Sandbox {
	sb := engine.NewDeb(t)
	sb.WithShadow(true)
	sb.WithShell("/bin/mkdir", "/bin/ln")
	sb.AptRepo(sandbox.Deb{Name: "trail-a", Version: "1.0", Depends: "trail-d", Scripts: sandbox.AccountScript("trail-a", 991, "")},
		sandbox.Deb{Name: "trail-b", Version: "1.0", Depends: "trail-d"},
		sandbox.Deb{Name: "trail-d", Version: "1.0", Files: map[string]string{"/lib/systemd/system/trail-d.service": "[Service]\n"},
			Scripts: sandbox.AccountScript("trail-d", 990, "trail-d.service")})
	return sb
}

// The user and the enablement link trail-d's postinst made when an
// install brought it belong to trail-d: removing trail-a while trail-b
// still needs trail-d keeps them (trail-a's own user goes with trail-a),
// and removing trail-b then takes trail-d with them, so that the machine
// is as before trail. trail-b is installed in a later apply, finding
// trail-d there, or in the same call as trail-a; or trail-b goes first,
// and trail-d's user and link stay until trail-a goes.
func TestSharedDepMarksStayWithDep(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		applies []string
		keep    string
	}{
		"later apply":               {[]string{"PKG trail-a", "PKG trail-a\nPKG trail-b"}, "trail-b"},
		"same call":                 {[]string{"PKG trail-a\nPKG trail-b"}, "trail-b"},
		"later apply, b goes first": {[]string{"PKG trail-a", "PKG trail-a\nPKG trail-b"}, "trail-a"},
	} {
		applies := tc.applies
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sb := sharedMarksRepo(t)
			const link = "/etc/systemd/system/multi-user.target.wants/trail-d.service"
			pkgs, accts, links := sb.Packages(), sb.Accounts(), enablementLinks(t, sb)
			for i, text := range applies {
				sb.Apply(text, fmt.Sprintf("c%d", i+1))
			}
			if sb.Entry("/etc/passwd", "trail-d") == "" || !sb.Exists(link) || sb.Entry("/etc/passwd", "trail-a") == "" {
				t.Fatalf("the postinsts made no user or link:\n%s\n%s", sb.Read("/etc/passwd"), enablementLinks(t, sb))
			}
			const made = "trail-d:group:trail-d,trail-d:link:" + link + ",trail-d:user:trail-d"
			for _, p := range []string{"trail-a", "trail-b"} {
				if o := sb.Origin(stepfmt.KindPackage, p); !strings.Contains(o, "depmarks="+made) {
					t.Errorf("%s's origin %q does not name what trail-d's postinst made", p, o)
				}
			}
			g := sb.Apply("PKG "+tc.keep, "c3")
			if got := sb.PkgState("trail-d"); got != "installed 1.0" {
				t.Fatalf("trail-d is %q, want kept for %s (kept %q)", got, tc.keep, g.Kept)
			}
			if sb.Entry("/etc/passwd", "trail-d") == "" || sb.Entry("/etc/group", "trail-d") == "" {
				t.Errorf("trail-d stays installed, but the user or group its postinst made went:\n%s", sb.Read("/etc/passwd"))
			}
			if !sb.Exists(link) {
				t.Errorf("trail-d stays installed, but the link its postinst made went")
			}
			if own := sb.Entry("/etc/passwd", "trail-a") != ""; own != (tc.keep == "trail-a") {
				t.Errorf("trail-a's own user there: %v, with trail-a kept: %v", own, tc.keep == "trail-a")
			}
			if g := sb.Apply("", "c0"); len(g.Kept) != 0 {
				t.Fatalf("kept %q", g.Kept)
			}
			if after := sb.Packages(); after != pkgs {
				t.Errorf("packages after the rollback:\n%s\nwant:\n%s", after, pkgs)
			}
			sb.SameAccounts(accts, "after the rollback")
			if after := enablementLinks(t, sb); after != links {
				t.Errorf("links after the rollback:\n%s\nwant:\n%s", after, links)
			}
		})
	}
}

// A package that was installed before trail, pinned to a version that
// needs a new dependency whose postinst makes a user and links its unit,
// while its own postinst names that user (it hands its files to it):
// rolling the pin back puts the old version back and purges the
// dependency, and with it the user, group and link its postinst made.
func TestPinRollbackTakesDepMarks(t *testing.T) {
	t.Parallel()
	sb := engine.NewDeb(t)
	sb.WithShadow(true)
	sb.WithShell("/bin/mkdir", "/bin/ln")
	post := map[string]string{"postinst": "#!/bin/sh\nset -e\n# its files belong to trail-d\nexit 0\n"}
	sb.DpkgInstall(sandbox.BuildDeb(t, t.TempDir(), sandbox.Deb{Name: "trail-t", Version: "1.0", Scripts: post}))
	sb.AptRepo(sandbox.Deb{Name: "trail-t", Version: "1.0", Scripts: post},
		sandbox.Deb{Name: "trail-t", Version: "2.0", Depends: "trail-d", Scripts: post},
		sandbox.Deb{Name: "trail-d", Version: "1.0", Files: map[string]string{"/lib/systemd/system/trail-d.service": "[Service]\n"},
			Scripts: sandbox.AccountScript("trail-d", 990, "trail-d.service")})
	pkgs, accts, links := sb.Packages(), sb.Accounts(), enablementLinks(t, sb)
	sb.Apply("PKG trail-t version=2.0", "c1")
	o := sb.Origin(stepfmt.KindPackage, "trail-t")
	if sb.Entry("/etc/passwd", "trail-d") == "" || !strings.Contains(o, "depmarks=") {
		t.Fatalf("trail-d's postinst made no user, or trail-t's origin %q does not name it as trail-d's", o)
	}
	if g := sb.Apply("", "c0"); len(g.Kept) != 0 {
		t.Fatalf("kept %q", g.Kept)
	}
	if after := sb.Packages(); after != pkgs {
		t.Errorf("packages after the rollback:\n%s\nwant:\n%s", after, pkgs)
	}
	sb.SameAccounts(accts, "after the rollback (trail-t's origin "+o+")")
	if after := enablementLinks(t, sb); after != links {
		t.Errorf("links after the rollback:\n%s\nwant:\n%s", after, links)
	}
}

// trail-a brings trail-d, whose postinst makes the user www, and
// trail-m, whose postinst only names www (it makes /var/www). When
// trail-a goes while trail-b still needs trail-m, trail-d goes and www
// with it, as a fresh apply of trail-b alone has no www.
func TestDepMarkMakerOverNamer(t *testing.T) {
	t.Parallel()
	sb := engine.NewDeb(t)
	sb.WithShadow(true)
	sb.WithShell("/bin/mkdir", "/bin/ln")
	sb.AptRepo(sandbox.Deb{Name: "trail-a", Version: "1.0", Depends: "trail-d, trail-m"},
		sandbox.Deb{Name: "trail-b", Version: "1.0", Depends: "trail-m"},
		sandbox.Deb{Name: "trail-d", Version: "1.0", Scripts: sandbox.AccountScript("www", 990, "")},
		sandbox.Deb{Name: "trail-m", Version: "1.0", Scripts: map[string]string{"postinst": "#!/bin/sh\nset -e\nmkdir -p /var/www\n"}})
	accts := sb.Accounts()
	sb.Apply("PKG trail-a", "c1")
	sb.Apply("PKG trail-a\nPKG trail-b", "c2")
	if sb.Entry("/etc/passwd", "www") == "" {
		t.Fatalf("trail-d's postinst made no user www")
	}
	o := sb.Origin(stepfmt.KindPackage, "trail-a")
	sb.Apply("PKG trail-b", "c3")
	if got := sb.PkgState("trail-d") + ", " + sb.PkgState("trail-m"); got != "absent, installed 1.0" {
		t.Fatalf("trail-d, trail-m are %s, want absent, installed 1.0", got)
	}
	sb.SameAccounts(accts, "with trail-d gone (trail-a's origin "+o+")")
}

// A package installed before trail, pinned to a version whose postinst
// makes a system user: rolling the pin back puts the old version back
// and takes the user, as the undo of the pin's apply does.
func TestPinRollbackTakesOwnMarks(t *testing.T) {
	t.Parallel()
	sb := engine.NewDeb(t)
	sb.WithShadow(true)
	sb.WithShell()
	sb.DpkgInstall(sandbox.BuildDeb(t, t.TempDir(), sandbox.Deb{Name: "trail-t", Version: "1.0"}))
	sb.AptRepo(sandbox.Deb{Name: "trail-t", Version: "1.0"},
		sandbox.Deb{Name: "trail-t", Version: "2.0", Scripts: sandbox.AccountScript("trail-t", 992, "")})
	pkgs, accts := sb.Packages(), sb.Accounts()
	sb.Apply("PKG trail-t version=2.0", "c1")
	o := sb.Origin(stepfmt.KindPackage, "trail-t")
	if sb.Entry("/etc/passwd", "trail-t") == "" || !strings.Contains(o, "users=trail-t") {
		t.Fatalf("trail-t 2.0's postinst made no user, or trail-t's origin %q does not name it", o)
	}
	sb.Apply("", "c0")
	if after := sb.Packages(); after != pkgs {
		t.Errorf("packages after the rollback:\n%s\nwant:\n%s", after, pkgs)
	}
	sb.SameAccounts(accts, "after the rollback")
}

// A package trail installed, whose postinst made a system user, purged
// by hand since: the rollback finds it gone, and takes the user its
// install made, which the purge left.
func TestRollbackTakesMarksOfPurgedPackage(t *testing.T) {
	t.Parallel()
	sb := engine.NewDeb(t)
	sb.WithShadow(true)
	sb.WithShell()
	sb.AptRepo(sandbox.Deb{Name: "trail-a", Version: "1.0", Scripts: sandbox.AccountScript("trail-a", 991, "")})
	accts := sb.Accounts()
	sb.Apply("PKG trail-a", "c1")
	if out, err := exec.Command("dpkg", "--root="+sb.Dir, "--purge", "trail-a").CombinedOutput(); err != nil {
		t.Fatalf("dpkg --purge: %v\n%s", err, out)
	}
	if sb.Entry("/etc/passwd", "trail-a") == "" {
		t.Fatal("trail-a's postinst made no user, or the purge took it")
	}
	sb.Apply("", "c0")
	sb.SameAccounts(accts, "after the rollback")
}

// trail-d, installed before trail, is upgraded by trail-a's install
// (trail-a needs a newer one), and its new version's postinst makes a
// user. trail-d stays when trail-a goes, at that version: so does the
// user its scripts need.
func TestUpgradedDepKeepsItsUser(t *testing.T) {
	t.Parallel()
	sb := engine.NewDeb(t)
	sb.WithShadow(true)
	sb.WithShell()
	sb.DpkgInstall(sandbox.BuildDeb(t, t.TempDir(), sandbox.Deb{Name: "trail-d", Version: "1.0"}))
	sb.AptRepo(sandbox.Deb{Name: "trail-a", Version: "1.0", Depends: "trail-d (>= 2.0)"},
		sandbox.Deb{Name: "trail-d", Version: "2.0", Scripts: sandbox.AccountScript("trail-d", 990, "")})
	sb.Apply("PKG trail-a", "c1")
	o := sb.Origin(stepfmt.KindPackage, "trail-a")
	if sb.PkgState("trail-d") != "installed 2.0" || sb.Entry("/etc/passwd", "trail-d") == "" {
		t.Fatalf("trail-d is %s, its user %q", sb.PkgState("trail-d"), sb.Entry("/etc/passwd", "trail-d"))
	}
	sb.Apply("", "c0")
	if got := sb.PkgState("trail-d"); got == "installed 2.0" && sb.Entry("/etc/passwd", "trail-d") == "" {
		t.Fatalf("trail-d stays at 2.0 without the user its postinst made (trail-a's origin %q)", o)
	}
}
