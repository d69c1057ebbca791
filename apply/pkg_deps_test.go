package apply

import (
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"trail/apply/internal/proc"
	"trail/apply/kind"
	"trail/apply/kinds/packages"
	"trail/apply/state"
)

// repoDeb is one package of a test repository: name, version, Depends.
type repoDeb struct{ name, version, depends string }

// aptRepo builds debs into a flat repository outside the root (its
// Packages index written as e2e/repo.sh writes it), points the
// root's apt at it and reads its lists, so that apt resolves dependencies
// as on a real host.
func (sb *sandbox) aptRepo(debs ...repoDeb) { aptRepoAt(sb.t, sb.root, debs...) }

func aptRepoAt(t testing.TB, root string, debs ...repoDeb) {
	t.Helper()
	dir := t.TempDir()
	var paths []string
	for _, d := range debs {
		paths = append(paths, buildDeb(t, dir, d.name, d.version, d.depends))
	}
	writeRepo(t, root, dir, paths)
}

// writeRepo writes the Packages index of debs, all in dir, points the
// root's apt at dir and reads its lists.
func writeRepo(t testing.TB, root, dir string, debs []string) {
	t.Helper()
	os.Chmod(dir, 0o755)
	var index strings.Builder
	for _, deb := range debs {
		control, err := exec.Command("dpkg-deb", "-f", deb).Output()
		if err != nil {
			t.Fatalf("dpkg-deb -f: %v", err)
		}
		data, err := os.ReadFile(deb)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		fmt.Fprintf(&index, "%sFilename: ./%s\nSize: %d\nSHA256: %x\n\n", control, filepath.Base(deb), len(data), sum)
	}
	if err := os.WriteFile(filepath.Join(dir, "Packages"), []byte(index.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	src := "deb [trusted=yes] file:" + dir + " ./\n"
	if err := os.WriteFile(filepath.Join(root, "/etc/apt/sources.list"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	tools := packages.Tools{Root: root}
	if out, err := proc.RunTool("apt-get", append(tools.AptOpts(), "-q", "update")...); err != nil {
		t.Fatalf("apt-get update: %v\n%s", err, out)
	}
}

// packages lists every package dpkg knows in the root that is not absent,
// as "name status version mark", sorted: the package state a rollback
// must give back.
func (sb *sandbox) packages() string {
	sb.t.Helper()
	t := packages.Tools{Root: sb.root}
	out, err := proc.RunTool("dpkg-query", "--root="+sb.root, "-W", "-f", "${binary:Package}\n")
	if err != nil && strings.TrimSpace(out) != "" {
		sb.t.Fatalf("dpkg-query: %v", err)
	}
	var lines []string
	for _, name := range strings.Fields(out) {
		p, err := packages.Read(&kind.Exec{Root: sb.e.newExec().Root}, name)
		if err != nil {
			sb.t.Fatal(err)
		}
		if p.State == kind.StateAbsent {
			continue
		}
		mark := ""
		if p.State == packages.Installed {
			mark = "manual"
			if auto, _ := t.AutoMarked(name); auto {
				mark = "auto"
			}
		}
		lines = append(lines, strings.TrimSpace(name+" "+p.State+" "+p.Version+" "+mark))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// origin returns the origin image the applied record keeps for a package.
func (sb *sandbox) origin(name string) string {
	sb.t.Helper()
	a, err := state.LoadApplied(sb.e.path(state.FileApplied))
	if err != nil {
		sb.t.Fatal(err)
	}
	for _, r := range a.Records {
		if r.ID.Kind == "PKG" && r.ID.Target == name {
			return r.Origin.String()
		}
	}
	sb.t.Fatalf("no record of PKG %s", name)
	return ""
}

func (sb *sandbox) isAuto(name string) bool {
	sb.t.Helper()
	auto, err := packages.Tools{Root: sb.root}.AutoMarked(name)
	if err != nil {
		sb.t.Fatal(err)
	}
	return auto
}

// A package installed with a dependency that was absent: the reverse
// removes both, and the root's packages are as before.
func TestPackageDepsRemovedWithPackage(t *testing.T) {
	t.Parallel()
	sb := newDebSandbox(t)
	sb.aptRepo(repoDeb{"trail-a", "1.0", "trail-b"}, repoDeb{"trail-b", "1.0", ""})
	before := sb.packages()
	status := sb.read("/var/lib/dpkg/status")
	sb.apply("PKG trail-a", "c1")
	if got := sb.pkgState("trail-b"); got != "installed 1.0" {
		t.Fatalf("trail-b is %s, want installed with trail-a", got)
	}
	if !sb.isAuto("trail-b") || sb.isAuto("trail-a") {
		t.Fatal("want trail-a manual, its dependency auto")
	}
	if got := sb.origin("trail-a"); got != "absent deps=trail-b" {
		t.Fatalf("origin %q, want the dependency recorded and the prediction gone", got)
	}
	g := sb.apply("", "c0")
	if after := sb.packages(); after != before {
		t.Fatalf("packages after the reverse:\n%s\nwant:\n%s", after, before)
	}
	if g.Counts.Kept != 0 {
		t.Fatalf("kept %q, want nothing kept", g.Kept)
	}
	if got := sb.read("/var/lib/dpkg/status"); got != status {
		t.Fatalf("dpkg status differs after the reverse:\n%s\nwant:\n%s", got, status)
	}
}

// A dependency that was installed before trail's call is never removed,
// even one marked automatic that nothing needs any more.
func TestPackageDepPreinstalledStays(t *testing.T) {
	t.Parallel()
	sb := newDebSandbox(t)
	sb.aptRepo(repoDeb{"trail-a", "1.0", "trail-b"}, repoDeb{"trail-b", "1.0", ""})
	sb.dpkgInstall(buildDeb(t, t.TempDir(), "trail-b", "1.0", ""))
	sb.aptMark("auto", "trail-b")
	before := sb.packages()
	sb.apply("PKG trail-a", "c1")
	if got := sb.origin("trail-a"); got != "absent" {
		t.Fatalf("origin %q, want no dependency recorded", got)
	}
	g := sb.apply("", "c0")
	if after := sb.packages(); after != before {
		t.Fatalf("packages after the reverse:\n%s\nwant:\n%s", after, before)
	}
	if g.Counts.Kept != 0 {
		t.Fatalf("kept %q", g.Kept)
	}
}

// A dependency another package has come to need, or an admin has marked
// manual since, stays, and the reverse says so.
func TestPackageDepKept(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		after func(sb *sandbox)
		want  string
	}{
		"needed by a package installed by hand": {
			func(sb *sandbox) { sb.dpkgInstall(buildDeb(sb.t, sb.t.TempDir(), "trail-c", "1.0", "trail-b")) },
			"package trail-b kept: trail installed it for trail-a, but trail-c still needs it",
		},
		"marked manual since": {
			func(sb *sandbox) { sb.aptMark("manual", "trail-b") },
			"package trail-b kept: trail installed it for trail-a, but it has been marked manually installed since",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			sb := newDebSandbox(t)
			sb.aptRepo(repoDeb{"trail-a", "1.0", "trail-b"}, repoDeb{"trail-b", "1.0", ""})
			sb.apply("PKG trail-a", "c1")
			tc.after(sb)
			g := sb.apply("", "c0")
			if got := sb.pkgState("trail-a"); got != "absent" {
				t.Fatalf("trail-a is %s, want removed", got)
			}
			if got := sb.pkgState("trail-b"); got != "installed 1.0" {
				t.Fatalf("trail-b is %s, want kept", got)
			}
			if g.Counts.Kept != 1 || len(g.Kept) != 1 || g.Kept[0] != tc.want {
				t.Fatalf("kept %d %q, want %q", g.Counts.Kept, g.Kept, tc.want)
			}
		})
	}
}

// Packages installed by one apt-get call each keep the dependencies they
// need: removing one takes its own and leaves, naming why, one the other
// still needs.
func TestPackageDepsSplitAcrossBatch(t *testing.T) {
	t.Parallel()
	sb := newDebSandbox(t)
	sb.aptRepo(repoDeb{"trail-a", "1.0", "trail-b"}, repoDeb{"trail-b", "1.0", ""},
		repoDeb{"trail-c", "1.0", "trail-d, trail-e"}, repoDeb{"trail-d", "1.0", ""}, repoDeb{"trail-e", "1.0", "trail-b"})
	sb.apply("PKG trail-a\nPKG trail-c\nFILE /srv/x {x}", "c1")
	if n := strings.Count(sb.read("/var/log/apt/history.log"), "Start-Date:"); n != 1 {
		t.Fatalf("%d apt-get calls, want one", n)
	}
	if got := sb.origin("trail-a"); got != "absent deps=trail-b" {
		t.Fatalf("trail-a origin %q", got)
	}
	if got := sb.origin("trail-c"); got != "absent deps=trail-b,trail-d,trail-e" {
		t.Fatalf("trail-c origin %q", got)
	}
	g := sb.apply("PKG trail-c\nFILE /srv/x {x}", "c2")
	if want := "package trail-b kept: trail installed it for trail-a, but trail-e still needs it"; len(g.Kept) != 1 || g.Kept[0] != want {
		t.Fatalf("kept %q, want %q", g.Kept, want)
	}
	for p, want := range map[string]string{"trail-a": "absent", "trail-b": "installed 1.0", "trail-d": "installed 1.0", "trail-e": "installed 1.0"} {
		if got := sb.pkgState(p); got != want {
			t.Fatalf("%s is %s, want %s", p, got, want)
		}
	}
	sb.apply("FILE /srv/x {x}", "c3")
	for _, p := range []string{"trail-b", "trail-c", "trail-d", "trail-e"} {
		if got := sb.pkgState(p); got != "absent" {
			t.Fatalf("%s is %s, want removed with trail-c", p, got)
		}
	}
}

// A new version that needs a new package brings it into the origin: the
// reverse removes it, whether trail installed the package or an admin
// had an older version before.
func TestPackageDepsOfNewVersion(t *testing.T) {
	t.Parallel()
	repo := []repoDeb{{"trail-a", "1.0", ""}, {"trail-a", "2.0", "trail-b"}, {"trail-b", "1.0", ""}}
	t.Run("installed by trail", func(t *testing.T) {
		sb := newDebSandbox(t)
		sb.aptRepo(repo...)
		before := sb.packages()
		sb.apply("PKG trail-a version=1.0", "c1")
		sb.apply("PKG trail-a version=2.0", "c2")
		if got := sb.origin("trail-a"); got != "absent deps=trail-b" {
			t.Fatalf("origin %q", got)
		}
		sb.apply("", "c0")
		if after := sb.packages(); after != before {
			t.Fatalf("packages after the reverse:\n%s\nwant:\n%s", after, before)
		}
	})
	t.Run("pre-installed", func(t *testing.T) {
		sb := newDebSandbox(t)
		sb.aptRepo(repo...)
		sb.dpkgInstall(buildDeb(t, t.TempDir(), "trail-a", "1.0", ""))
		sb.aptMark("auto", "trail-a")
		before := sb.packages()
		sb.apply("PKG trail-a version=2.0", "c1")
		if got := sb.origin("trail-a"); got != "installed version=1.0 mark=auto deps=trail-b" {
			t.Fatalf("origin %q", got)
		}
		sb.apply("", "c0")
		if after := sb.packages(); after != before {
			t.Fatalf("packages after the reverse:\n%s\nwant:\n%s", after, before)
		}
	})
}

// A failed apply undoes the install with its dependencies.
func TestPackageDepsUndoneOnFailure(t *testing.T) {
	t.Parallel()
	sb := newDebSandbox(t)
	sb.aptRepo(repoDeb{"trail-a", "1.0", "trail-b"}, repoDeb{"trail-b", "1.0", ""}, repoDeb{"trail-broken", "1.0", "trail-missing"})
	before := sb.packages()
	if _, err := sb.applyErr("PKG trail-a\nFILE /srv/x {x}\nPKG trail-broken", "c1"); err == nil {
		t.Fatal("an uninstallable dependency did not fail the apply")
	}
	if after := sb.packages(); after != before {
		t.Fatalf("packages after the rollback:\n%s\nwant:\n%s", after, before)
	}
}
